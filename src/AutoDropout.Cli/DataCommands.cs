using System.CommandLine;
using AutoDropout.Training;

namespace AutoDropout.Cli;

/// <summary>`autodropout data subset|info`: the bundled data subset and a look at data directories.</summary>
public static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "the bundled data subset and a look at data directories");

        var subset = new Command("subset", "write the first images of an IDX data set (Fashion-MNIST, MNIST) as a smaller one");
        var from = new Option<string>("--from")
        {
            Description = "a directory of IDX files",
            HelpName = "DIR",
            DefaultValueFactory = _ => FashionMnist.SystemDirectory,
        };
        var output = new Option<string>("--out") { Description = "where to write the subset", HelpName = "DIR", Required = true };
        var train = CliOptions.Int("--train", "training images to keep (default 6000)");
        var test = CliOptions.Int("--test", "test images to keep (default 1000)");
        subset.Add(from);
        subset.Add(output);
        subset.Add(train);
        subset.Add(test);
        subset.SetAction(result => Subset(result.GetValue(from)!, result.GetValue(output)!, result.GetValue(train) ?? 6000, result.GetValue(test) ?? 1000));
        data.Add(subset);

        var info = new Command("info", "what a data directory holds (default: the bundled subset)");
        var dir = CliOptions.Text("--data", "a data directory: IDX files or CIFAR-10 binary batches", "DIR");
        info.Add(dir);
        info.SetAction(result => Info(result.GetValue(dir)));
        data.Add(info);
        return data;
    }

    private static int Subset(string from, string output, int train, int test)
    {
        var source = FashionMnist.LoadDirectory(from);
        FashionMnist.WriteSubset(source, train, test, output);
        Console.WriteLine($"wrote the first {train} training and {test} test images of {from} to {output}");
        return ExitCodes.Ok;
    }

    private static int Info(string? dir)
    {
        var data = ImageDatasets.Load(dir);
        var images = data.Train.Images;
        Console.WriteLine($"{data.Name} from {data.Source}: {data.Train.Count} training and {data.Test.Count} test images of " +
                          $"{(images.Channels == 1 ? "" : $"{images.Channels}x")}{images.Rows}x{images.Columns}, {data.Train.Classes} classes");
        return ExitCodes.Ok;
    }
}
