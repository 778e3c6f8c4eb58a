using System.Reflection;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// The layers of docs/architecture.md, checked on the built assemblies: the compiler records a reference only for an
/// assembly whose types are used, so these fail when code crosses a layer, not merely when a project file does.
/// </summary>
public class LayeringTests
{
    private static string[] References(string assembly) =>
        Assembly.Load(assembly).GetReferencedAssemblies().Select(a => a.Name!).ToArray();

    [Theory]
    [InlineData("AutoDropout.Core")]
    [InlineData("AutoDropout.Messages")]
    [InlineData("AutoDropout.Search")]
    [InlineData("AutoDropout.Policy")]
    [InlineData("AutoDropout.Training")]
    [InlineData("AutoDropout.Torch")]
    public void Plain_libraries_use_no_Akka(string assembly) =>
        Assert.DoesNotContain(References(assembly), name => name.StartsWith("Akka", StringComparison.Ordinal));

    [Theory]
    [InlineData("AutoDropout.Core")]
    [InlineData("AutoDropout.Messages")]
    [InlineData("AutoDropout.Search")]
    [InlineData("AutoDropout.Cluster.Common")]
    [InlineData("AutoDropout.Cluster.Controller")]
    [InlineData("AutoDropout.Cluster.Trainer")]
    [InlineData("autodropout-seed")]
    public void Contracts_decisions_and_actors_call_no_torch_API(string assembly) =>
        Assert.DoesNotContain("TorchSharp", References(assembly));

    [Fact]
    public void The_policy_does_not_drag_in_training_code() =>
        Assert.DoesNotContain("AutoDropout.Training", References("AutoDropout.Policy"));
}
