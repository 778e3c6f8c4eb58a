using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class TextCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("text-").FullName;

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    // counts: <eos> 4, c 3, b 2, then a, d and <unk> once each in order of first appearance
    private void WritePtb()
    {
        Write("ptb.train.txt", "a b c", "b c", " c ", "", "d <unk>");
        Write("ptb.valid.txt", "a z");
        Write("ptb.test.txt", "  c   b ");
    }

    [Fact]
    public void The_vocabulary_comes_from_training_by_descending_count_then_first_appearance()
    {
        WritePtb();
        var corpus = TextCorpus.Load(_dir);
        Assert.Equal(["<eos>", "c", "b", "a", "d", "<unk>"], corpus.Vocabulary);
        Assert.Equal(_dir, corpus.Source);
    }

    [Fact]
    public void Lines_end_with_eos_blank_lines_are_skipped_and_unseen_words_become_unk()
    {
        WritePtb();
        var corpus = TextCorpus.Load(_dir);
        Assert.Equal(new long[] { 3, 2, 1, 0, 2, 1, 0, 1, 0, 4, 5, 0 }, corpus.Train);
        Assert.Equal(new long[] { 3, 5, 0 }, corpus.Validation); // z was never trained on
        Assert.Equal(new long[] { 1, 2, 0 }, corpus.Test);
    }

    [Fact]
    public void The_vocabulary_can_be_capped_by_size_or_by_count()
    {
        WritePtb();
        var capped = TextCorpus.Load(_dir, maxVocabulary: 4);
        Assert.Equal(["c", "b", "<unk>", "<eos>"], capped.Vocabulary);
        Assert.Equal(new long[] { 2, 1, 0, 3 }, capped.Train[..4]); // a is now <unk>

        var frequent = TextCorpus.Load(_dir, minCount: 2);
        Assert.Equal(["<eos>", "c", "b", "<unk>"], frequent.Vocabulary);
        Assert.Equal(new long[] { 3, 3, 0 }, frequent.Validation);
    }

    [Fact]
    public void Wikitext_without_a_validation_file_holds_out_the_last_tenth_of_the_training_stream()
    {
        var lines = Enumerable.Range(0, 10).Select(i => $"w{i % 3} x y").ToArray(); // 40 tokens
        Write("wiki.train.tokens", lines);
        var corpus = TextCorpus.Load(_dir);

        Assert.Equal((36, 4), (corpus.Train.Length, corpus.Validation.Length));
        Assert.Null(corpus.Test);
        long eos = corpus.Vocabulary.ToList().IndexOf("<eos>");
        long w0 = corpus.Vocabulary.ToList().IndexOf("w0");
        Assert.Equal(eos, corpus.Validation[^1]);
        Assert.Equal(w0, corpus.Validation[0]); // the tenth line, "w0 x y", whole
    }

    [Fact]
    public void A_directory_without_a_training_file_says_which_files_were_expected()
    {
        Write("ptb.valid.txt", "a b");
        var error = Assert.Throws<FileNotFoundException>(() => TextCorpus.Load(_dir));
        Assert.Contains(_dir, error.Message);
        Assert.Contains("ptb.train.txt", error.Message);
        Assert.Contains("wiki.train.tokens", error.Message);
        Assert.Throws<DirectoryNotFoundException>(() => TextCorpus.Load(Path.Combine(_dir, "absent")));
    }

    [Fact]
    public void An_empty_training_file_is_named()
    {
        var path = Write("ptb.train.txt", "", "   ", "");
        var error = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(_dir));
        Assert.Contains(path, error.Message);
        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void Batchify_cuts_the_stream_into_contiguous_rows_and_drops_the_tail()
    {
        using var rows = LanguageModelTrial.Batchify(arange(11L), 3);
        Assert.Equal(new long[] { 3, 3 }, rows.shape);
        Assert.Equal(ScalarType.Int64, rows.dtype);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 6, 7, 8 }, rows.data<long>().ToArray());
        Assert.Throws<ArgumentException>(() => LanguageModelTrial.Batchify(tensor(new long[] { 1, 2 }), 3));
    }

    [Fact]
    public void Windows_pair_each_input_with_the_next_token_and_the_last_one_is_shorter()
    {
        using var rows = LanguageModelTrial.Batchify(arange(12L), 2); // 0..5 and 6..11
        var (input, target) = LanguageModelTrial.Window(rows, 0, 3);
        Assert.Equal(new long[] { 0, 1, 2, 6, 7, 8 }, input.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 2, 3, 7, 8, 9 }, target.data<long>().ToArray());

        var (lastInput, lastTarget) = LanguageModelTrial.Window(rows, 3, 3);
        Assert.Equal(new long[] { 2, 2 }, lastInput.shape);
        Assert.Equal(new long[] { 3, 4, 9, 10 }, lastInput.contiguous().data<long>().ToArray());
        Assert.Equal(new long[] { 4, 5, 10, 11 }, lastTarget.contiguous().data<long>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => LanguageModelTrial.Window(rows, 5, 3));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
