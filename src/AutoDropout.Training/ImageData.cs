namespace AutoDropout.Training;

/// <summary>An image classification set in memory: 8-bit pixels with one label each.</summary>
public sealed record ImageSet(IdxImages Images, byte[] Labels, int Classes)
{
    public int Count => Images.Count;

    public ImageSet Select(IReadOnlyList<int> indices)
    {
        int per = Images.PixelsPerImage;
        var pixels = new byte[indices.Count * per];
        var labels = new byte[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Images.Pixels.AsSpan(indices[i] * per, per).CopyTo(pixels.AsSpan(i * per));
            labels[i] = Labels[indices[i]];
        }
        return new ImageSet(Images with { Count = indices.Count, Pixels = pixels }, labels, Classes);
    }

    /// <summary>
    /// Holds out a seeded fraction of the training set for validation. Rewards are measured there, never on the test
    /// set, and every trial of a search sees the same split.
    /// </summary>
    public (ImageSet Train, ImageSet Validation) SplitValidation(double fraction, int seed)
    {
        if (fraction <= 0 || fraction >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), "must be in (0, 1)");
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int validation = Math.Max(1, (int)Math.Round(Count * fraction));
        return (Select(order[validation..]), Select(order[..validation]));
    }
}

/// <summary>A dataset with its train and test parts and where it came from.</summary>
public sealed record ImageDataset(string Name, string Source, ImageSet Train, ImageSet Test);

/// <summary>
/// Fashion-MNIST (or MNIST) in IDX files. Looks in an explicit directory, else in the system copy from the Debian
/// package dataset-fashion-mnist, else uses the small subset embedded in this assembly.
/// </summary>
public static class FashionMnist
{
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";
    public static readonly string[] FileStems =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <param name="directory">A directory with the four IDX files; "embedded" for the bundled subset; null for the
    /// system copy when present, else the bundled subset.</param>
    public static ImageDataset Load(string? directory)
    {
        if (directory == "embedded") return LoadEmbedded();
        if (directory is null) return Directory.Exists(SystemDirectory) ? LoadDirectory(SystemDirectory) : LoadEmbedded();
        return LoadDirectory(directory);
    }

    /// <summary>The IDX file of <paramref name="stem"/> in the directory, the compressed one first; null when neither is there.</summary>
    public static string? FindFile(string directory, string stem) =>
        new[] { stem + ".gz", stem }.Select(name => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

    public static string MissingFile(string directory, string stem) => $"{Path.Combine(directory, stem)}(.gz): expected this IDX file, found none";

    public static ImageDataset LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: expected a directory with Fashion-MNIST IDX files");
        string Find(string stem) => FindFile(directory, stem) ?? throw new FileNotFoundException(MissingFile(directory, stem));
        var train = new ImageSet(IdxReader.ReadImages(Find(FileStems[0])), IdxReader.ReadLabels(Find(FileStems[1])), 10);
        var test = new ImageSet(IdxReader.ReadImages(Find(FileStems[2])), IdxReader.ReadLabels(Find(FileStems[3])), 10);
        CheckPair(directory, train);
        CheckPair(directory, test);
        return new ImageDataset("fashion-mnist", directory, train, test);
    }

    public static ImageDataset LoadEmbedded()
    {
        var assembly = typeof(FashionMnist).Assembly;
        Stream Open(string stem) =>
            assembly.GetManifestResourceStream($"AutoDropout.Data.{stem}.gz")
            ?? throw new FileNotFoundException($"embedded {stem}.gz: expected it in this build (see data/README.md)");
        var train = new ImageSet(IdxReader.ReadImages(FileStems[0], Open(FileStems[0])), IdxReader.ReadLabels(FileStems[1], Open(FileStems[1])), 10);
        var test = new ImageSet(IdxReader.ReadImages(FileStems[2], Open(FileStems[2])), IdxReader.ReadLabels(FileStems[3], Open(FileStems[3])), 10);
        CheckPair("embedded subset", train);
        CheckPair("embedded subset", test);
        return new ImageDataset("fashion-mnist", "embedded subset", train, test);
    }

    /// <summary>Writes the first <paramref name="trainCount"/>/<paramref name="testCount"/> images of a full copy as gzip IDX files.</summary>
    public static void WriteSubset(ImageDataset source, int trainCount, int testCount, string outputDirectory)
    {
        if (trainCount > source.Train.Count || testCount > source.Test.Count)
            throw new ArgumentException($"the source has {source.Train.Count} train and {source.Test.Count} test images");
        Directory.CreateDirectory(outputDirectory);
        void Write(string stem, Action<Stream> write)
        {
            using var file = File.Create(Path.Combine(outputDirectory, stem + ".gz"));
            using var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.SmallestSize);
            write(gz);
        }
        Write(FileStems[0], s => IdxReader.WriteImages(s, source.Train.Images.Take(trainCount)));
        Write(FileStems[1], s => IdxReader.WriteLabels(s, source.Train.Labels.AsSpan(0, trainCount)));
        Write(FileStems[2], s => IdxReader.WriteImages(s, source.Test.Images.Take(testCount)));
        Write(FileStems[3], s => IdxReader.WriteLabels(s, source.Test.Labels.AsSpan(0, testCount)));
    }

    private static void CheckPair(string where, ImageSet set)
    {
        if (set.Images.Count != set.Labels.Length)
            throw new InvalidDataException($"{where}: expected as many labels as images, found {set.Images.Count} images and {set.Labels.Length} labels");
        foreach (var label in set.Labels)
            if (label >= set.Classes)
                throw new InvalidDataException($"{where}: expected labels 0..{set.Classes - 1}, found {label}");
    }
}
