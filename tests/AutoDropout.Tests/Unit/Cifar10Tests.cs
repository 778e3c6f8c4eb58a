using AutoDropout.Training;

namespace AutoDropout.Tests.Unit;

public class Cifar10Tests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cifar-").FullName;

    /// <summary>Images whose bytes and labels depend on <paramref name="first"/>, so batches are told apart.</summary>
    internal static ImageSet SomeImages(int count, int first)
    {
        var pixels = new byte[count * Cifar10.PixelsPerImage];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(first * 31 + i * 7);
        var labels = Enumerable.Range(first, count).Select(i => (byte)(i % 10)).ToArray();
        return new ImageSet(new IdxImages(count, 32, 32, pixels, 3), labels, 10);
    }

    internal static void WriteBatches(string dir, int[] trainCounts, int testCount)
    {
        Directory.CreateDirectory(dir);
        int first = 0;
        for (int b = 0; b < 5; b++)
        {
            using var file = File.Create(Path.Combine(dir, Cifar10.TrainFiles[b]));
            Cifar10.WriteBatch(file, SomeImages(trainCounts[b], first));
            first += trainCounts[b];
        }
        using var test = File.Create(Path.Combine(dir, Cifar10.TestFile));
        Cifar10.WriteBatch(test, SomeImages(testCount, 100));
    }

    [Fact]
    public void The_five_training_batches_are_read_in_order_and_the_test_batch_apart()
    {
        WriteBatches(_dir, [2, 3, 1, 2, 2], 3);
        var data = Cifar10.Load(_dir);

        Assert.Equal(("cifar-10", _dir), (data.Name, data.Source));
        Assert.Equal((10, 3), (data.Train.Count, data.Test.Count));
        Assert.Equal((3, 32, 32, 10), (data.Train.Images.Channels, data.Train.Images.Rows, data.Train.Images.Columns, data.Train.Classes));
        var expected = new[] { (2, 0), (3, 2), (1, 5), (2, 6), (2, 8) }.Select(p => SomeImages(p.Item1, p.Item2)).ToList();
        Assert.Equal(expected.SelectMany(s => s.Labels), data.Train.Labels);
        Assert.Equal(expected.SelectMany(s => s.Images.Pixels), data.Train.Images.Pixels);
        Assert.Equal(SomeImages(3, 100).Images.Pixels, data.Test.Images.Pixels);
    }

    [Fact]
    public void A_record_is_a_label_byte_then_red_green_and_blue_planes()
    {
        var record = new byte[Cifar10.RecordSize];
        record[0] = 7;
        record[1 + 0 * 1024 + 2 * 32 + 5] = 11;  // red, row 2, column 5
        record[1 + 2 * 1024 + 31 * 32 + 0] = 22; // blue, row 31, column 0
        var path = Path.Combine(_dir, "one.bin");
        File.WriteAllBytes(path, record);

        var set = Cifar10.ReadBatch(path);
        Assert.Equal(new byte[] { 7 }, set.Labels);
        Assert.Equal(11, set.Images.Pixels[0 * 1024 + 2 * 32 + 5]);
        Assert.Equal(22, set.Images.Pixels[2 * 1024 + 31 * 32 + 0]);
        Assert.Equal(2, set.Images.Pixels.Count(b => b != 0));
    }

    [Fact]
    public void The_folder_the_archive_unpacks_to_is_found_inside_the_given_directory()
    {
        WriteBatches(Path.Combine(_dir, "cifar-10-batches-bin"), [1, 1, 1, 1, 1], 1);
        var data = Cifar10.Load(_dir);
        Assert.Equal(Path.Combine(_dir, "cifar-10-batches-bin"), data.Source);
        Assert.Equal(5, data.Train.Count);
    }

    [Fact]
    public void A_missing_batch_is_named()
    {
        WriteBatches(_dir, [1, 1, 1, 1, 1], 1);
        File.Delete(Path.Combine(_dir, "data_batch_3.bin"));
        var error = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "data_batch_3.bin"), error.Message);
    }

    [Theory]
    [InlineData(2 * 3073 + 5)]
    [InlineData(3072)]
    [InlineData(0)]
    public void A_file_of_the_wrong_size_names_the_file_and_the_expected_and_found_sizes(int size)
    {
        var path = Path.Combine(_dir, "data_batch_1.bin");
        File.WriteAllBytes(path, new byte[size]);
        var error = Assert.Throws<InvalidDataException>(() => Cifar10.ReadBatch(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("multiple of 3073 bytes", error.Message);
        Assert.Contains("30730000", error.Message);
        Assert.Contains($"found {size} bytes", error.Message);
    }

    [Fact]
    public void A_label_out_of_range_names_the_file_and_the_record()
    {
        var records = new byte[3 * Cifar10.RecordSize];
        records[Cifar10.RecordSize] = 10;
        var path = Path.Combine(_dir, "test_batch.bin");
        File.WriteAllBytes(path, records);
        var error = Assert.Throws<InvalidDataException>(() => Cifar10.ReadBatch(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("found 10 in record 1", error.Message);
    }

    [Fact]
    public void Classes_are_named_and_only_colour_images_of_32x32_are_written()
    {
        Assert.Equal(10, Cifar10.ClassNames.Count);
        Assert.Equal(("airplane", "automobile", "truck"), (Cifar10.ClassNames[0], Cifar10.ClassNames[1], Cifar10.ClassNames[9]));
        var grey = new ImageSet(new IdxImages(1, 32, 32, new byte[1024]), [0], 10);
        Assert.Throws<ArgumentException>(() => Cifar10.WriteBatch(Stream.Null, grey));
    }

    /// <summary>Each class has its own colour (levels per channel) under per-pixel noise, so a few steps can learn it.</summary>
    internal static ImageSet ColourCoded(int count, int seed)
    {
        int[][] levels = [[0, 0, 0], [2, 0, 0], [0, 2, 0], [0, 0, 2], [2, 2, 0], [2, 0, 2], [0, 2, 2], [2, 2, 2], [1, 1, 1], [1, 0, 2]];
        var random = new Random(seed);
        var pixels = new byte[count * Cifar10.PixelsPerImage];
        var labels = new byte[count];
        for (int n = 0; n < count; n++)
        {
            int label = random.Next(10);
            labels[n] = (byte)label;
            var colour = levels[label].Select(level => 20 + level * 107).ToArray();
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 1024; i++)
                    pixels[n * Cifar10.PixelsPerImage + c * 1024 + i] = (byte)Math.Clamp(colour[c] + random.Next(-40, 41), 0, 255);
        }
        return new ImageSet(new IdxImages(count, 32, 32, pixels, 3), labels, 10);
    }

    [Fact]
    public void A_short_augmented_cnn_trial_on_colour_coded_cifar_files_learns_far_beyond_chance()
    {
        var all = ColourCoded(240, 3);
        for (int b = 0; b < 5; b++)
        {
            using var file = File.Create(Path.Combine(_dir, Cifar10.TrainFiles[b]));
            Cifar10.WriteBatch(file, all.Select(Enumerable.Range(b * 40, 40).ToArray()));
        }
        using (var test = File.Create(Path.Combine(_dir, Cifar10.TestFile)))
            Cifar10.WriteBatch(test, all.Select(Enumerable.Range(200, 40).ToArray()));

        var spec = new AutoDropout.Core.TrialSpec("cnn", Cifar10.Name, _dir, new AutoDropout.Core.TrialBudget(12), 16, 3e-3,
            new AutoDropout.Core.BaselinePattern(AutoDropout.Core.BaselineSpec.None), ValidationFraction: 0.2, SplitSeed: 1, TrialSeed: 2);
        using var data = Assert.IsType<ImageTrialData>(TrialPlanner.LoadData(spec, AutoDropout.Torch.TorchRuntime.ParseDevice("cpu")));
        Assert.Equal(new AugmentationOptions(4, true), data.Augmentation);

        var outcome = Assert.IsType<TrialOutcome.Completed>(TrialPlanner.Plan(spec, data).Run(CancellationToken.None));
        Assert.Equal(3, data.Prepared.InputChannels);
        Assert.InRange(outcome.Metrics.ValidationAccuracy, 0.7, 1.0); // chance is 0.1
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
