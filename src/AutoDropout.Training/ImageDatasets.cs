namespace AutoDropout.Training;

/// <summary>The one way callers load image data: picks the reader from what a directory holds.</summary>
public static class ImageDatasets
{
    /// <param name="directory">null: the system Fashion-MNIST copy when present, else the bundled subset; "embedded":
    /// the bundled subset; a directory: CIFAR-10 binary batches (in it or in its cifar-10-batches-bin folder) or
    /// Fashion-MNIST/MNIST IDX files.</param>
    public static ImageDataset Load(string? directory)
    {
        if (directory is null || directory == "embedded") return FashionMnist.Load(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: expected a directory with image data ({Expected})");
        if (Cifar10.FindBatches(directory) is not null) return Cifar10.Load(directory);
        if (FashionMnist.FileStems.Any(stem => File.Exists(Path.Combine(directory, stem)) || File.Exists(Path.Combine(directory, stem + ".gz"))))
            return FashionMnist.LoadDirectory(directory);
        throw new FileNotFoundException($"{directory}: expected {Expected}, found none of them");
    }

    private static string Expected =>
        $"CIFAR-10 binary batches ({string.Join(", ", Cifar10.TrainFiles)}, {Cifar10.TestFile}, directly or in {Cifar10.FolderName}/) " +
        $"or IDX files ({string.Join(", ", FashionMnist.FileStems)}, each optionally .gz)";
}
