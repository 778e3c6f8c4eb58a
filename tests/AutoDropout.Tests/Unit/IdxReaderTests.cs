using System.IO.Compression;
using AutoDropout.Training;

namespace AutoDropout.Tests.Unit;

public class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("idx-").FullName;

    private static IdxImages SomeImages(int count) =>
        new(count, 4, 3, Enumerable.Range(0, count * 12).Select(i => (byte)(i * 7)).ToArray());

    private string Write(string name, Action<Stream> write, bool gzip)
    {
        var path = Path.Combine(_dir, name);
        using var file = File.Create(path);
        if (gzip)
        {
            using var gz = new GZipStream(file, CompressionLevel.Fastest);
            write(gz);
        }
        else write(file);
        return path;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Images_and_labels_round_trip_gzipped_or_raw(bool gzip)
    {
        var images = SomeImages(5);
        var imagePath = Write("images", s => IdxReader.WriteImages(s, images), gzip);
        var labelPath = Write("labels", s => IdxReader.WriteLabels(s, new byte[] { 0, 1, 2, 3, 9 }), gzip);

        var read = IdxReader.ReadImages(imagePath);
        Assert.Equal((5, 4, 3), (read.Count, read.Rows, read.Columns));
        Assert.Equal(images.Pixels, read.Pixels);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 9 }, IdxReader.ReadLabels(labelPath));
    }

    [Fact]
    public void A_truncated_file_names_the_file_and_the_expected_and_found_sizes()
    {
        var full = new MemoryStream();
        IdxReader.WriteImages(full, SomeImages(5));
        var path = Write("truncated", s => s.Write(full.ToArray().AsSpan(0, 40)), gzip: false);

        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("76 bytes", error.Message); // 16 + 5 * 12
        Assert.Contains("found 40 bytes", error.Message);
    }

    [Fact]
    public void Labels_given_as_images_are_refused_by_their_magic_number()
    {
        var path = Write("labels", s => IdxReader.WriteLabels(s, new byte[20]), gzip: true);
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains("magic", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_missing_file_in_a_data_directory_is_named()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FashionMnist.LoadDirectory(_dir));
        Assert.Contains("train-images-idx3-ubyte", error.Message);
    }

    [Fact]
    public void The_bundled_subset_loads_and_splits_reproducibly()
    {
        var data = FashionMnist.LoadEmbedded();
        Assert.Equal((6000, 1000), (data.Train.Count, data.Test.Count));
        Assert.Equal(10, data.Train.Labels.Distinct().Count());
        var (train, validation) = data.Train.SplitValidation(0.1, seed: 3);
        var (_, again) = data.Train.SplitValidation(0.1, seed: 3);
        Assert.Equal((5400, 600), (train.Count, validation.Count));
        Assert.Equal(validation.Images.Pixels, again.Images.Pixels);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
