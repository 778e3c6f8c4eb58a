using System.IO.Compression;
using AutoDropout.Training;

namespace AutoDropout.Tests.Unit;

/// <summary>The cheap look at a data directory that `search start` and `demo` take before anything is persisted.</summary>
public sealed class DataCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("datacheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Path(string name) => System.IO.Path.Combine(_dir, name);

    /// <summary>The four IDX files of a tiny Fashion-MNIST, raw or gzip-compressed.</summary>
    private void WriteIdx(bool gzip, int train = 5, int test = 3, int rows = 28, int columns = 28)
    {
        void Write(string stem, Action<Stream> write)
        {
            using var file = File.Create(Path(gzip ? stem + ".gz" : stem));
            using Stream output = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
            write(output);
        }
        IdxImages Images(int count) => new(count, rows, columns, new byte[count * rows * columns]);
        Write(FashionMnist.FileStems[0], s => IdxReader.WriteImages(s, Images(train)));
        Write(FashionMnist.FileStems[1], s => IdxReader.WriteLabels(s, new byte[train]));
        Write(FashionMnist.FileStems[2], s => IdxReader.WriteImages(s, Images(test)));
        Write(FashionMnist.FileStems[3], s => IdxReader.WriteLabels(s, new byte[test]));
    }

    private string? Problem(string dataset = "fashion-mnist") => DataCheck.Problem(_dir, dataset);

    [Fact]
    public void No_directory_and_the_bundled_subset_need_no_check()
    {
        Assert.Null(DataCheck.Problem(null, "fashion-mnist"));
        Assert.Null(DataCheck.Problem("embedded", "fashion-mnist"));
    }

    [Fact]
    public void A_missing_directory_or_a_file_in_its_place_is_named()
    {
        var missing = Path("nope");
        Assert.Equal($"{missing}: no such directory", DataCheck.Problem(missing, "fashion-mnist"));
        Assert.Equal($"{missing}: no such directory", DataCheck.Problem(missing, "text"));
        File.WriteAllText(missing, "x");
        Assert.Equal($"{missing}: expected a data directory, found a file", DataCheck.Problem(missing, "cifar-10"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Good_idx_files_pass_raw_or_compressed_and_the_reader_agrees(bool gzip)
    {
        WriteIdx(gzip);
        Assert.Null(Problem());
        Assert.Equal(5, FashionMnist.LoadDirectory(_dir).Train.Count);
    }

    [Fact]
    public void A_missing_idx_file_is_named()
    {
        WriteIdx(gzip: true);
        File.Delete(Path(FashionMnist.FileStems[3] + ".gz"));
        Assert.Equal($"{Path(FashionMnist.FileStems[3])}(.gz): expected this IDX file, found none", Problem());
    }

    [Fact]
    public void A_truncated_raw_file_is_named_with_both_sizes()
    {
        WriteIdx(gzip: false);
        var images = Path(FashionMnist.FileStems[0]);
        using (var file = File.OpenWrite(images)) file.SetLength(16 + 5 * 28 * 28 - 100);
        var problem = Problem()!;
        Assert.StartsWith($"{images}: expected {16 + 5 * 28 * 28} bytes for 5 images of 28x28, found {16 + 5 * 28 * 28 - 100} bytes", problem, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => FashionMnist.LoadDirectory(_dir)); // what every trial would have met
    }

    [Fact]
    public void A_truncated_gzip_file_is_named()
    {
        WriteIdx(gzip: true);
        var images = Path(FashionMnist.FileStems[0] + ".gz");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..(bytes.Length / 2)]);
        Assert.StartsWith($"{images}: expected ", Problem(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_or_empty_file_is_named()
    {
        WriteIdx(gzip: false);
        var labels = Path(FashionMnist.FileStems[3]);
        File.WriteAllBytes(labels, [0, 0, 8]);
        Assert.Equal($"{labels}: expected an IDX label file of at least 8 bytes, found 3 bytes", Problem());
    }

    [Fact]
    public void A_bad_magic_number_is_named_and_swapped_files_are_suspected()
    {
        WriteIdx(gzip: false);
        var images = Path(FashionMnist.FileStems[0]);
        File.Copy(Path(FashionMnist.FileStems[1]), images, overwrite: true);
        Assert.Equal($"{images}: expected IDX image magic 0x00000803, found 0x00000801 (images and labels swapped?)", Problem());
        File.WriteAllBytes(images, new byte[32]);
        Assert.Equal($"{images}: expected IDX image magic 0x00000803, found 0x00000000", Problem());
    }

    [Fact]
    public void Wrong_dimensions_are_named()
    {
        // labels that do not match the images
        WriteIdx(gzip: false);
        using (var file = File.Create(Path(FashionMnist.FileStems[1]))) IdxReader.WriteLabels(file, new byte[4]);
        Assert.Equal($"{Path(FashionMnist.FileStems[1])}: expected 5 labels, one per image of {Path(FashionMnist.FileStems[0])}, found 4", Problem());

        // test images of another size than the training images
        WriteIdx(gzip: false);
        using (var file = File.Create(Path(FashionMnist.FileStems[2]))) IdxReader.WriteImages(file, new IdxImages(3, 32, 32, new byte[3 * 32 * 32]));
        Assert.Equal($"{Path(FashionMnist.FileStems[2])}: expected images of 28x28 as in {Path(FashionMnist.FileStems[0])}, found 32x32", Problem());

        // a header with no rows
        var header = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, 0x803);
        File.WriteAllBytes(Path(FashionMnist.FileStems[0]), header);
        Assert.Equal($"{Path(FashionMnist.FileStems[0])}: expected positive dimensions, found 0x0x0", Problem());
    }

    [Fact]
    public void Cifar_batches_are_checked_by_size_and_the_dataset_must_match_the_files()
    {
        Cifar10Tests.WriteBatches(Path(Cifar10.FolderName), [2, 3, 1, 2, 2], 3);
        Assert.Null(Problem("cifar-10"));
        Assert.StartsWith($"{_dir}: holds CIFAR-10 batches, but the search trains on fashion-mnist", Problem(), StringComparison.Ordinal);

        var test = Path(System.IO.Path.Combine(Cifar10.FolderName, Cifar10.TestFile));
        using (var file = File.OpenWrite(test)) file.SetLength(3 * Cifar10.RecordSize - 1);
        Assert.StartsWith($"{test}: expected a positive multiple of 3073 bytes", Problem("cifar-10"), StringComparison.Ordinal);
        File.Delete(test);
        Assert.Equal($"{test}: expected this CIFAR-10 batch file, found none", Problem("cifar-10"));

        Directory.Delete(Path(Cifar10.FolderName), recursive: true);
        Assert.StartsWith($"{_dir}: expected CIFAR-10 binary batches", Problem("cifar-10"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_text_corpus_needs_a_training_file_with_words()
    {
        Assert.StartsWith($"{_dir}: expected a training file named ptb.train.txt", Problem("text"), StringComparison.Ordinal);
        var train = Path("ptb.train.txt");
        File.WriteAllText(train, "");
        Assert.Equal($"{train}: expected words, found an empty training file", Problem("text"));
        File.WriteAllText(train, " \n\n ");
        Assert.StartsWith($"{train}: expected words, found only white space", Problem("text"), StringComparison.Ordinal);
        File.WriteAllBytes(train, [0x1f, 0x8b, 0, 0]);
        Assert.Equal($"{train}: expected plain text, found binary data (a NUL byte)", Problem("text"));
        File.WriteAllText(train, "the cat sat\non the mat\n");
        Assert.Null(Problem("text"));
    }
}
