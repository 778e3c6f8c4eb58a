using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// A word-level corpus as PTB and WikiText ship it: plain text, one sentence a line, words separated by spaces.
/// The vocabulary comes from the training file alone, most frequent first (ties in order of first appearance), so
/// it is deterministic; every non-blank line ends with &lt;eos&gt;; words outside the vocabulary become &lt;unk&gt;.
/// Training batches are contiguous rows of the stream (<see cref="LanguageModelTrial.Batchify"/>) read in windows (<see cref="LanguageModelTrial.Window"/>).
/// </summary>
public sealed class TextCorpus
{
    public const string EndOfSentence = "<eos>";
    public const string Unknown = "<unk>";

    private static readonly (string Train, string Valid, string Test)[] Layouts =
    [
        ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"),
        ("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"),
        ("train.txt", "valid.txt", "test.txt"),
    ];

    /// <summary>The training files a corpus directory may hold, in the order they are looked for.</summary>
    public static IReadOnlyList<string> TrainingFileNames { get; } = Layouts.Select(l => l.Train).ToArray();

    private TextCorpus(string source, IReadOnlyList<string> vocabulary, long[] train, long[] validation, long[]? test)
    {
        Source = source;
        Vocabulary = vocabulary;
        Train = train;
        Validation = validation;
        Test = test;
    }

    public string Source { get; }
    public IReadOnlyList<string> Vocabulary { get; }
    public long[] Train { get; }
    public long[] Validation { get; }
    public long[]? Test { get; }

    /// <summary>
    /// Loads train, validation and (when present) test files from a directory in one of the known layouts. Without
    /// a validation file the last 10% of the training stream is held out instead: a contiguous tail keeps sentences
    /// and their context whole, and the split is the same every time. Without a test file <see cref="Test"/> is null.
    /// </summary>
    /// <param name="maxVocabulary">Keep at most this many words, &lt;unk&gt; and &lt;eos&gt; included; 0: no limit.</param>
    /// <param name="minCount">Words seen fewer times in the training file become &lt;unk&gt;.</param>
    public static TextCorpus Load(string directory, int maxVocabulary = 0, int minCount = 1)
    {
        if (maxVocabulary is < 0 or 1 or 2) throw new ArgumentOutOfRangeException(nameof(maxVocabulary), "must be 0 (no limit) or above 2");
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: expected a directory with a word-level corpus (ptb.train.txt, wiki.train.tokens or train.txt)");
        foreach (var (trainName, validName, testName) in Layouts)
        {
            var trainPath = Path.Combine(directory, trainName);
            if (!File.Exists(trainPath)) continue;
            var trainLines = File.ReadAllLines(trainPath);
            if (!trainLines.Any(line => Words(line).Any()))
                throw new InvalidDataException($"{trainPath}: expected words, found an empty training file");
            var vocabulary = BuildVocabulary(trainLines, maxVocabulary, minCount);
            var index = vocabulary.Select((word, i) => (word, i)).ToDictionary(p => p.word, p => (long)p.i);
            var train = Encode(trainLines, index);
            var validPath = Path.Combine(directory, validName);
            long[] validation;
            if (File.Exists(validPath)) validation = Encode(File.ReadAllLines(validPath), index);
            else
            {
                int held = Math.Max(2, train.Length / 10);
                validation = train[^held..];
                train = train[..^held];
            }
            var testPath = Path.Combine(directory, testName);
            var test = File.Exists(testPath) ? Encode(File.ReadAllLines(testPath), index) : null;
            return new TextCorpus(directory, vocabulary, train, validation, test);
        }
        throw new FileNotFoundException(
            $"{directory}: expected a training file named {string.Join(", ", Layouts.Select(l => l.Train))}, found none");
    }

    private static IEnumerable<string> Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static List<string> BuildVocabulary(string[] lines, int maxVocabulary, int minCount)
    {
        var counts = new Dictionary<string, (long Count, int First)>();
        void Count(string word)
        {
            counts[word] = counts.TryGetValue(word, out var c) ? (c.Count + 1, c.First) : (1, counts.Count);
        }
        foreach (var line in lines)
        {
            bool any = false;
            foreach (var word in Words(line)) { Count(word); any = true; }
            if (any) Count(EndOfSentence);
        }
        var ordered = counts.Where(p => p.Value.Count >= minCount || p.Key == EndOfSentence)
            .OrderByDescending(p => p.Value.Count).ThenBy(p => p.Value.First).Select(p => p.Key).ToList();
        if (!ordered.Contains(Unknown)) ordered.Add(Unknown);
        if (!ordered.Contains(EndOfSentence)) ordered.Add(EndOfSentence);
        if (maxVocabulary > 0 && ordered.Count > maxVocabulary)
        {
            var kept = ordered.Where(w => w is not (Unknown or EndOfSentence)).Take(maxVocabulary - 2).ToList();
            kept.Add(Unknown);
            kept.Add(EndOfSentence);
            ordered = kept;
        }
        return ordered;
    }

    private static long[] Encode(string[] lines, Dictionary<string, long> index)
    {
        long unknown = index[Unknown], end = index[EndOfSentence];
        var ids = new List<long>();
        foreach (var line in lines)
        {
            int before = ids.Count;
            foreach (var word in Words(line)) ids.Add(index.TryGetValue(word, out var id) ? id : unknown);
            if (ids.Count > before) ids.Add(end); // blank lines (WikiText has many) are not sentences
        }
        return ids.ToArray();
    }
}
