using System.Buffers.Binary;
using System.IO.Compression;

namespace AutoDropout.Training;

/// <summary>
/// A cheap look at a data directory before a search is persisted: the files a trainer will read are there, and
/// their sizes and headers fit the format the search's dataset needs. Only headers and sizes are read (for a
/// gzip file, its first bytes and its trailer), never every image, so it takes milliseconds whatever the data's
/// size. It finds what would make every trial fail at once; a file damaged in its middle still fails its trials.
/// </summary>
public static class DataCheck
{
    /// <summary>Why the data a search names cannot be trained on, naming the directory or the file; null when it looks
    /// right. No directory (the trainers' own copy) and "embedded" (the bundled subset) are not checked.</summary>
    /// <param name="dataset">"fashion-mnist", "cifar-10" or "text", as the search spec says.</param>
    public static string? Problem(string? directory, string dataset)
    {
        if (directory is null or "embedded") return null;
        if (!Directory.Exists(directory))
            return File.Exists(directory) ? $"{directory}: expected a data directory, found a file" : $"{directory}: no such directory";
        try
        {
            return dataset switch
            {
                "text" => TextProblem(directory),
                Cifar10.Name => Cifar10.FindBatches(directory) is { } batches ? CifarProblem(batches) : $"{directory}: expected CIFAR-10 binary batches " +
                    $"({string.Join(", ", Cifar10.TrainFiles)}, {Cifar10.TestFile}, directly or in {Cifar10.FolderName}/), found none",
                _ => IdxProblem(directory),
            };
        }
        catch (IOException e) { return e.Message; }
        catch (UnauthorizedAccessException e) { return e.Message; }
    }

    private static string? CifarProblem(string batches)
    {
        foreach (var name in Cifar10.TrainFiles.Append(Cifar10.TestFile))
        {
            var file = new FileInfo(Path.Combine(batches, name));
            if (!file.Exists) return $"{file.FullName}: expected this CIFAR-10 batch file, found none";
            if (file.Length == 0 || file.Length % Cifar10.RecordSize != 0)
                return $"{file.FullName}: expected a positive multiple of {Cifar10.RecordSize} bytes " +
                       $"({Cifar10.RecordsPerBatch * Cifar10.RecordSize} for a full batch), found {file.Length} bytes";
            using var stream = file.OpenRead();
            int label = stream.ReadByte();
            if (label >= Cifar10.ClassNames.Count) return $"{file.FullName}: expected labels 0..{Cifar10.ClassNames.Count - 1}, found {label} in record 0";
        }
        return null;
    }

    private static string? IdxProblem(string directory)
    {
        if (Cifar10.FindBatches(directory) is not null)
            return $"{directory}: holds CIFAR-10 batches, but the search trains on fashion-mnist (say --dataset cifar-10)";
        var files = new string[FashionMnist.FileStems.Length];
        for (int i = 0; i < files.Length; i++)
        {
            var stem = FashionMnist.FileStems[i];
            if (FashionMnist.FindFile(directory, stem) is not { } found) return FashionMnist.MissingFile(directory, stem);
            files[i] = found;
        }
        var trainImages = IdxHeader(files[0], IdxReader.ImagesMagic, out var problem);
        if (problem is not null) return problem;
        var trainLabels = IdxHeader(files[1], IdxReader.LabelsMagic, out problem);
        if (problem is not null) return problem;
        var testImages = IdxHeader(files[2], IdxReader.ImagesMagic, out problem);
        if (problem is not null) return problem;
        var testLabels = IdxHeader(files[3], IdxReader.LabelsMagic, out problem);
        if (problem is not null) return problem;
        if (trainImages.Count != trainLabels.Count)
            return $"{files[1]}: expected {trainImages.Count} labels, one per image of {files[0]}, found {trainLabels.Count}";
        if (testImages.Count != testLabels.Count)
            return $"{files[3]}: expected {testImages.Count} labels, one per image of {files[2]}, found {testLabels.Count}";
        if ((testImages.Rows, testImages.Columns) != (trainImages.Rows, trainImages.Columns))
            return $"{files[2]}: expected images of {trainImages.Rows}x{trainImages.Columns} as in {files[0]}, found {testImages.Rows}x{testImages.Columns}";
        if (trainImages.Count == 0) return $"{files[0]}: expected training images, found none";
        return null;
    }

    private readonly record struct Header(int Count, int Rows, int Columns);

    /// <summary>Reads an IDX file's header and checks its length against it (for a gzip file, the length its trailer
    /// records, or counted when the trailer disagrees, as a file of several gzip members has).</summary>
    private static Header IdxHeader(string path, int magic, out string? problem)
    {
        bool images = magic == IdxReader.ImagesMagic;
        int headerSize = images ? 16 : 8;
        string kind = images ? "image" : "label";
        bool gzip = IsGzip(path);
        var header = new byte[headerSize];
        int read;
        try
        {
            using var stream = Open(path, gzip);
            read = stream.ReadAtLeast(header, headerSize, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            problem = $"{path}: expected a valid gzip stream ({e.Message})";
            return default;
        }
        int found = read >= 4 ? BinaryPrimitives.ReadInt32BigEndian(header) : magic;
        if (found != magic)
        {
            problem = $"{path}: expected IDX {kind} magic 0x{magic:x8}, found 0x{found:x8}{(found == (images ? IdxReader.LabelsMagic : IdxReader.ImagesMagic) ? " (images and labels swapped?)" : "")}";
            return default;
        }
        if (read < headerSize)
        {
            problem = $"{path}: expected an IDX {kind} file of at least {headerSize} bytes, found {read} bytes";
            return default;
        }
        int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        int rows = images ? BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8)) : 1;
        int columns = images ? BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12)) : 1;
        if (count < 0 || rows <= 0 || columns <= 0)
        {
            problem = $"{path}: expected positive dimensions, found {count}x{rows}x{columns}";
            return default;
        }
        long expected = headerSize + (long)count * rows * columns;
        long length;
        try { length = gzip ? UncompressedLength(path, expected) : new FileInfo(path).Length; }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            problem = $"{path}: expected a complete gzip stream ({e.Message})";
            return default;
        }
        problem = length == expected ? null
            : images ? $"{path}: expected {expected} bytes for {count} images of {rows}x{columns}, found {length} bytes"
            : $"{path}: expected {expected} bytes for {count} labels, found {length} bytes";
        return new Header(count, rows, columns);
    }

    private static bool IsGzip(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        return stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static Stream Open(string path, bool gzip)
    {
        var file = File.OpenRead(path);
        return gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>The trailer's length (the uncompressed size modulo 2^32) when it is the one expected, else the length
    /// counted by inflating the file, which also finds a truncated stream.</summary>
    private static long UncompressedLength(string path, long expected)
    {
        using (var file = File.OpenRead(path))
        {
            if (file.Length >= 18)
            {
                Span<byte> trailer = stackalloc byte[4];
                file.Seek(-4, SeekOrigin.End);
                file.ReadExactly(trailer);
                if (BinaryPrimitives.ReadUInt32LittleEndian(trailer) == (uint)(expected & 0xffffffff)) return expected;
            }
        }
        using var stream = Open(path, gzip: true);
        var buffer = new byte[81920];
        long total = 0;
        for (int n; (n = stream.Read(buffer)) > 0;) total += n;
        return total;
    }

    private static string? TextProblem(string directory)
    {
        var train = TextCorpus.TrainingFileNames.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);
        if (train is null)
            return $"{directory}: expected a training file named {string.Join(", ", TextCorpus.TrainingFileNames)}, found none";
        // the first 64 KiB tell text from an empty or a binary file
        var head = new byte[65536];
        int read;
        using (var stream = File.OpenRead(train)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read == 0) return $"{train}: expected words, found an empty training file";
        ReadOnlySpan<byte> span = head.AsSpan(0, read);
        if (span.Contains((byte)0)) return $"{train}: expected plain text, found binary data (a NUL byte)";
        if (!span.ContainsAnyExcept(" \t\r\n"u8)) return $"{train}: expected words, found only white space in its first {read} bytes";
        return null;
    }
}
