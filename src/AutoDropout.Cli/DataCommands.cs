using AutoDropout.Training;

namespace AutoDropout.Cli;

/// <summary>`autodropout data subset|info`: the bundled data subset and a look at data directories.</summary>
public static class DataCommands
{
    public static int Run(Args args)
    {
        switch (args.Positional.ElementAtOrDefault(1))
        {
            case "subset":
                {
                    var from = args.GetOr("from", FashionMnist.SystemDirectory);
                    var output = args.Get("out") ?? throw new UsageException("data subset needs --out DIR");
                    int train = args.GetInt("train", 6000), test = args.GetInt("test", 1000);
                    args.RejectUnknown();
                    var source = FashionMnist.LoadDirectory(from);
                    FashionMnist.WriteSubset(source, train, test, output);
                    Console.WriteLine($"wrote the first {train} training and {test} test images of {from} to {output}");
                    return ExitCodes.Ok;
                }
            case "info":
                {
                    var dir = args.Get("data");
                    args.RejectUnknown();
                    var data = ImageDatasets.Load(dir);
                    var images = data.Train.Images;
                    Console.WriteLine($"{data.Name} from {data.Source}: {data.Train.Count} training and {data.Test.Count} test images of " +
                                      $"{(images.Channels == 1 ? "" : $"{images.Channels}x")}{images.Rows}x{images.Columns}, {data.Train.Classes} classes");
                    return ExitCodes.Ok;
                }
            default:
                throw new UsageException("data needs a verb: subset or info");
        }
    }
}
