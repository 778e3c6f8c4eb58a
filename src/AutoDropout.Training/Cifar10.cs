namespace AutoDropout.Training;

/// <summary>
/// CIFAR-10 in its binary format (cifar-10-binary.tar.gz): five training batches and one test batch, each a run of
/// records of 1 label byte and 3072 pixel bytes (32x32 red, then green, then blue, rows top to bottom).
/// </summary>
public static class Cifar10
{
    public const string Name = "cifar-10";
    public const string FolderName = "cifar-10-batches-bin";
    public const int Channels = 3, Size = 32, PixelsPerImage = Channels * Size * Size, RecordSize = 1 + PixelsPerImage;
    public const int RecordsPerBatch = 10_000;

    public static readonly IReadOnlyList<string> TrainFiles =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    public const string TestFile = "test_batch.bin";

    public static readonly IReadOnlyList<string> ClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// The directory holding the batches: <paramref name="directory"/> itself or its cifar-10-batches-bin folder
    /// (where the archive unpacks), whichever has any batch file; null when neither has.
    /// </summary>
    public static string? FindBatches(string directory)
    {
        foreach (var candidate in new[] { directory, Path.Combine(directory, FolderName) })
            if (TrainFiles.Append(TestFile).Any(f => File.Exists(Path.Combine(candidate, f)))) return candidate;
        return null;
    }

    /// <summary>Reads the five training batches (in order) and the test batch.</summary>
    public static ImageDataset Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: expected a directory with CIFAR-10 binary batches");
        var batches = FindBatches(directory) ?? directory;
        var train = Concat(TrainFiles.Select(f => ReadBatch(Path.Combine(batches, f))).ToList());
        var test = ReadBatch(Path.Combine(batches, TestFile));
        return new ImageDataset(Name, batches, train, test);
    }

    /// <summary>Reads one batch file of any whole number of records.</summary>
    public static ImageSet ReadBatch(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists) throw new FileNotFoundException($"{path}: expected this CIFAR-10 batch file, found none", path);
        // checked before reading, so a wrong file costs no 30 MB read and the message gives both sizes
        if (file.Length == 0 || file.Length % RecordSize != 0)
            throw new InvalidDataException(
                $"{path}: expected a positive multiple of {RecordSize} bytes ({RecordsPerBatch * RecordSize} for a full batch of " +
                $"{RecordsPerBatch} images), found {file.Length} bytes");
        var bytes = File.ReadAllBytes(path);
        int count = bytes.Length / RecordSize;
        var labels = new byte[count];
        var pixels = new byte[count * PixelsPerImage];
        for (int i = 0; i < count; i++)
        {
            byte label = bytes[i * RecordSize];
            if (label >= ClassNames.Count)
                throw new InvalidDataException($"{path}: expected labels 0..{ClassNames.Count - 1}, found {label} in record {i}");
            labels[i] = label;
            bytes.AsSpan(i * RecordSize + 1, PixelsPerImage).CopyTo(pixels.AsSpan(i * PixelsPerImage));
        }
        return new ImageSet(new IdxImages(count, Size, Size, pixels, Channels), labels, ClassNames.Count);
    }

    /// <summary>Writes images in the batch format, e.g. to make test files or a subset.</summary>
    public static void WriteBatch(Stream output, ImageSet set)
    {
        var images = set.Images;
        if ((images.Channels, images.Rows, images.Columns) != (Channels, Size, Size))
            throw new ArgumentException($"CIFAR-10 batches hold {Channels}x{Size}x{Size} images, these are {images.Channels}x{images.Rows}x{images.Columns}");
        for (int i = 0; i < set.Count; i++)
        {
            output.WriteByte(set.Labels[i]);
            output.Write(images.Pixels, i * PixelsPerImage, PixelsPerImage);
        }
    }

    private static ImageSet Concat(IReadOnlyList<ImageSet> parts)
    {
        var pixels = new byte[parts.Sum(p => p.Images.Pixels.Length)];
        var labels = new byte[parts.Sum(p => p.Count)];
        int pixelAt = 0, labelAt = 0;
        foreach (var part in parts)
        {
            part.Images.Pixels.CopyTo(pixels, pixelAt);
            part.Labels.CopyTo(labels, labelAt);
            pixelAt += part.Images.Pixels.Length;
            labelAt += part.Count;
        }
        return new ImageSet(new IdxImages(labels.Length, Size, Size, pixels, Channels), labels, ClassNames.Count);
    }
}
