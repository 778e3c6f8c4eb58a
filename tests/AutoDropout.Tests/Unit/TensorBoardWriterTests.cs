using System.Text;
using AutoDropout.Cluster.Controller;
using AutoDropout.Tests.Support;

namespace AutoDropout.Tests.Unit;

public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("autodropout-tb-").FullName;

    [Fact]
    public void Crc32c_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, TensorBoardWriter.Crc32C(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Scalars_read_back_with_their_steps_and_the_file_version()
    {
        string path;
        using (var writer = new TensorBoardWriter(Path.Combine(_dir, "search")))
        {
            writer.Scalars(1, [("policy/mean_reward", 0.5), ("policy/entropy", 2.25)]);
            writer.Scalars(300, [("trial/reward", 0.875)]);
            path = writer.Path;
        }
        var (version, scalars) = TensorBoardReader.Read(path);
        Assert.Equal("brain.Event:2", version);
        Assert.Equal([new(1, "policy/mean_reward", 0.5f), new(1, "policy/entropy", 2.25f), new(300, "trial/reward", 0.875f)], scalars);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
