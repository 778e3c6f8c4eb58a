using AutoDropout.Bench;

namespace AutoDropout.Tests.Unit;

public class BenchCommandTests
{
    [Theory]
    [InlineData("step")]
    [InlineData("trial --target wrn-16-2 --batch-size 32 --steps 5 --threads 2 --data somewhere")]
    [InlineData("trial --target lm-2-64-4 --context 16 --vocabulary 100")]
    [InlineData("soak --trials 3 --steps 1 --no-trim")]
    [InlineData("controller --trials 10 --persistence postgres --db Host=x")]
    public void Every_verb_takes_its_options(string line) =>
        Assert.Empty(BenchCommands.Create().Parse(line.Split(' ')).Errors);

    [Theory]
    [InlineData("bogus")]
    [InlineData("step --context 16")]
    [InlineData("trial --target lm-2-64-4 --data somewhere")]
    [InlineData("step --target resnet")]
    [InlineData("soak --target lm-1-32-4")]
    [InlineData("controller --persistence mysql")]
    [InlineData("trial --steps 0")]
    public void Wrong_verbs_and_options_are_refused(string line) =>
        Assert.NotEmpty(BenchCommands.Create().Parse(line.Split(' ')).Errors);
}
