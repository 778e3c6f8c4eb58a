using AutoDropout.Cluster;

namespace AutoDropout.Tests.Unit;

public sealed class NodeLoggingTests
{
    [Fact]
    public void An_unknown_log_format_is_refused_with_the_ones_known() =>
        Assert.Contains("plain or json", Assert.Throws<ArgumentException>(() => NodeLogging.Configure("xml")).Message);

    [Fact]
    public void The_log_format_comes_from_the_option_over_the_environment()
    {
        var environment = NodeOptions.FromEnvironment(name => name == NodeEnvironment.LogFormat ? "json" : null);
        Assert.Equal("json", new NodeOptions().Over(environment).LogFormat);
        Assert.Equal("plain", new NodeOptions { LogFormat = "plain" }.Over(environment).LogFormat);
    }
}
