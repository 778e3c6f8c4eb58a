using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class OptimizerStepTests
{
    /// <summary>Weights and optimiser state after <paramref name="steps"/> steps on a fixed series of losses, as bytes.</summary>
    private static byte[] Train(Func<IEnumerable<TorchSharp.Modules.Parameter>, TorchSharp.Modules.OptimizerHelper> optimizer, int steps)
    {
        using var scope = NewDisposeScope();
        // other tests build modules on the global generator at the same time
        var model = TorchRuntime.Seeded(11, () => nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)));
        using var opt = optimizer(model.parameters());
        using var generator = new Generator(5);
        for (int i = 0; i < steps; i++)
        {
            using var step = NewDisposeScope();
            var input = randn([8, 6], generator: generator);
            var target = randn([8, 3], generator: generator);
            opt.zero_grad();
            nn.functional.mse_loss(model.call(input), target).backward();
            opt.step();
        }
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            model.save(writer);
            opt.save_state_dict(writer);
        }
        return stream.ToArray();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(5e-4)]
    public void Adam_steps_to_the_same_bytes_as_TorchSharps_own(double weightDecay)
    {
        var theirs = Train(p => optim.Adam(p, 5e-3, weight_decay: weightDecay), 40);
        var ours = Train(p => new AutoDropout.Torch.Adam(p, 5e-3, weightDecay), 40);
        Assert.Equal(theirs.Length, ours.Length);
        Assert.True(theirs.AsSpan().SequenceEqual(ours), "the weights or Adam's state differ");
        // and the series really moved the weights, so equality is not that of two untouched models
        Assert.False(Train(p => new AutoDropout.Torch.Adam(p, 5e-3, weightDecay), 0).AsSpan().SequenceEqual(ours));
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(5e-4, true)]
    [InlineData(5e-4, false)]
    public void SGD_steps_to_the_same_bytes_as_TorchSharps_own(double weightDecay, bool nesterov)
    {
        var theirs = Train(p => optim.SGD(p, 0.05, momentum: 0.9, weight_decay: weightDecay, nesterov: nesterov), 40);
        var ours = Train(p => new AutoDropout.Torch.SGD(p, 0.05, 0.9, weightDecay, nesterov), 40);
        Assert.True(theirs.AsSpan().SequenceEqual(ours), "the weights or the momentum buffers differ");
        Assert.False(Train(p => new AutoDropout.Torch.SGD(p, 0.05, 0.9, weightDecay, nesterov), 0).AsSpan().SequenceEqual(ours));
    }
}
