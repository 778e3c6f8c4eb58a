using AutoDropout.Training;

namespace AutoDropout.Tests;

public class TextCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("text-").FullName;

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_dir, name), text);

    [Fact]
    public void The_vocabulary_comes_from_training_text_by_frequency_with_eos_and_unk()
    {
        Write("ptb.train.txt", " the cat sat \n the dog sat \n\n a cat \n");
        Write("ptb.valid.txt", " the bird sat \n");
        var corpus = TextCorpus.Load(_dir);
        // counts: <eos> 3, the 2, cat 2, sat 2, dog 1, a 1; ties in order of first appearance
        Assert.Equal(["<eos>", "the", "cat", "sat", "dog", "a", "<unk>"], corpus.Vocabulary);
        Assert.Equal([1L, 2, 3, 0, 1, 4, 3, 0, 5, 2, 0], corpus.Train);
        Assert.Equal([1L, 6, 3, 0], corpus.Validation); // "bird" is unknown
        Assert.Null(corpus.Test);
    }

    [Fact]
    public void Without_a_validation_file_the_last_tenth_of_the_training_stream_is_held_out()
    {
        Write("wiki.train.tokens", string.Join("\n", Enumerable.Range(0, 50).Select(i => $"w{i % 7} w{i % 3}")));
        var corpus = TextCorpus.Load(_dir);
        Assert.Equal(150 - 15, corpus.Train.Length);
        Assert.Equal(15, corpus.Validation.Length);
        Assert.Contains("<unk>", corpus.Vocabulary);
    }

    [Fact]
    public void A_capped_vocabulary_maps_rare_words_to_unk()
    {
        Write("train.txt", "a a a b b c\n");
        var corpus = TextCorpus.Load(_dir, maxVocabulary: 3);
        Assert.Equal(["a", "<unk>", "<eos>"], corpus.Vocabulary);
        Assert.Equal([0L, 0, 0, 1, 1, 1, 2], corpus.Train.Concat(corpus.Validation)); // no validation file: the tail is held out
    }

    [Fact]
    public void Missing_or_empty_files_are_named()
    {
        Assert.Contains("ptb.train.txt", Assert.Throws<FileNotFoundException>(() => TextCorpus.Load(_dir)).Message);
        Write("ptb.train.txt", "\n\n");
        Assert.Contains("ptb.train.txt", Assert.Throws<InvalidDataException>(() => TextCorpus.Load(_dir)).Message);
        Assert.Throws<DirectoryNotFoundException>(() => TextCorpus.Load(Path.Combine(_dir, "absent")));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
