using AutoDropout.Training;

namespace AutoDropout.Tests.Unit;

public class ImageDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("images-").FullName;

    [Fact]
    public void A_directory_of_cifar_batches_loads_as_cifar_10()
    {
        Cifar10Tests.WriteBatches(_dir, [1, 1, 1, 1, 1], 2);
        var data = ImageDatasets.Load(_dir);
        Assert.Equal(("cifar-10", 5, 2, 3), (data.Name, data.Train.Count, data.Test.Count, data.Train.Images.Channels));
    }

    [Fact]
    public void A_directory_holding_the_unpacked_cifar_folder_loads_as_cifar_10()
    {
        Cifar10Tests.WriteBatches(Path.Combine(_dir, Cifar10.FolderName), [1, 1, 1, 1, 1], 1);
        Assert.Equal("cifar-10", ImageDatasets.Load(_dir).Name);
    }

    [Fact]
    public void A_directory_of_idx_files_loads_as_fashion_mnist()
    {
        var images = new IdxImages(3, 28, 28, new byte[3 * 784]);
        void Write(string name, Action<Stream> write)
        {
            using var file = File.Create(Path.Combine(_dir, name));
            write(file);
        }
        Write("train-images-idx3-ubyte", s => IdxReader.WriteImages(s, images));
        Write("train-labels-idx1-ubyte", s => IdxReader.WriteLabels(s, new byte[] { 0, 1, 2 }));
        Write("t10k-images-idx3-ubyte", s => IdxReader.WriteImages(s, images));
        Write("t10k-labels-idx1-ubyte", s => IdxReader.WriteLabels(s, new byte[] { 3, 4, 5 }));

        var data = ImageDatasets.Load(_dir);
        Assert.Equal(("fashion-mnist", _dir, 3, 1), (data.Name, data.Source, data.Train.Count, data.Train.Images.Channels));
    }

    [Fact]
    public void Null_and_embedded_behave_as_the_fashion_mnist_loader()
    {
        var embedded = ImageDatasets.Load("embedded");
        Assert.Equal(("fashion-mnist", "embedded subset", 6000, 1000, 1), (embedded.Name, embedded.Source, embedded.Train.Count, embedded.Test.Count, embedded.Train.Images.Channels));
        // null means the system copy when installed; loading all 70,000 images would make this test slow
        if (!Directory.Exists(FashionMnist.SystemDirectory)) Assert.Equal("embedded subset", ImageDatasets.Load(null).Source);
    }

    [Fact]
    public void A_directory_with_neither_format_says_which_files_were_expected()
    {
        File.WriteAllText(Path.Combine(_dir, "readme.txt"), "nothing here");
        var error = Assert.Throws<FileNotFoundException>(() => ImageDatasets.Load(_dir));
        Assert.Contains(_dir, error.Message);
        Assert.Contains("data_batch_1.bin", error.Message);
        Assert.Contains("test_batch.bin", error.Message);
        Assert.Contains("train-images-idx3-ubyte", error.Message);
        Assert.Throws<DirectoryNotFoundException>(() => ImageDatasets.Load(Path.Combine(_dir, "absent")));
    }

    [Fact]
    public void Selecting_and_splitting_keep_the_channels()
    {
        var set = Cifar10Tests.SomeImages(10, 0);
        var (train, validation) = set.SplitValidation(0.2, seed: 1);
        Assert.Equal((8, 2, 3, 3), (train.Count, validation.Count, train.Images.Channels, validation.Images.Channels));
        Assert.Equal(8 * 3072, train.Images.Pixels.Length);
        var picked = set.Select([4]);
        Assert.Equal(set.Images.Pixels.AsSpan(4 * 3072, 3072).ToArray(), picked.Images.Pixels);
        Assert.Equal(3072, picked.Images.Take(1).PixelsPerImage);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
