using Akka.Actor;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Training;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// Draws pattern masks for the dashboard (under /user, <see cref="TrainerRoutes.MaskRendererName"/>): trainer nodes
/// have torch, whose generator draws the masks exactly as a training step does, while the seed and the controller
/// do not load it. One picture at a time, off the actor's thread, so a page full of pictures cannot crowd out training.
/// </summary>
public sealed class MaskRenderer : ReceiveActor
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public MaskRenderer()
    {
        Receive<RenderMasks>(render => Draw(render).PipeTo(Sender));
    }

    private static async Task<object> Draw(RenderMasks render)
    {
        await OneAtATime.WaitAsync();
        try
        {
            return await Task.Run<object>(() => new MaskPicture(Sheet(render).Canvas.Encode()));
        }
        catch (Exception e) when (e is ArgumentException or PatternException or FormatException)
        {
            return new CommandRejected($"cannot draw this pattern's masks: {e.Message}");
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    /// <summary>One example of the search's data: 3x32x32 for CIFAR-10, 1x28x28 for Fashion-MNIST and MNIST.</summary>
    private static MaskSheet Sheet(RenderMasks render) => render.Pattern switch
    {
        TransformerPattern t => MaskSheet.ForTransformer(t, LanguageModelSpec.Parse(render.Target), Math.Clamp(render.SequenceLength, 1, 512), 1),
        ConvPattern c when render.Dataset == SearchSpec.CifarTen => MaskSheet.ForConv(c, TargetSpec.Parse(render.Target), 3, 32, 32, 1),
        ConvPattern c => MaskSheet.ForConv(c, TargetSpec.Parse(render.Target), 1, 28, 28, 1),
        _ => throw new ArgumentException("a hand-made regulariser has no mask pattern to draw"),
    };
}
