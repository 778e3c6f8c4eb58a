using Akka.Actor;

namespace AutoDropout.Cluster;

/// <summary>
/// The members a seed last saw, one address a line in the state directory, so that a seed restarted on its address
/// rejoins the running cluster through them instead of starting a second cluster on its own.
/// </summary>
public static class SeedMemory
{
    public static string FileFor(int port) => Path.Combine(NodeState.Directory, $"seed-{port}.members");

    /// <summary>The addresses last written for a seed on <paramref name="port"/>; none when there is no file. Lines that
    /// are not addresses are skipped.</summary>
    public static IReadOnlyList<Address> Read(int port) => ReadFile(FileFor(port));

    public static IReadOnlyList<Address> ReadFile(string path)
    {
        if (!File.Exists(path)) return [];
        var addresses = new List<Address>();
        foreach (var line in File.ReadAllLines(path))
            if (Address.TryParse(line.Trim(), out var address)) addresses.Add(address);
        return addresses;
    }

    public static void Write(int port, IEnumerable<Address> members)
    {
        var path = FileFor(port);
        Directory.CreateDirectory(NodeState.Directory);
        File.WriteAllLines(path + ".tmp", members.Select(m => m.ToString()).Order(StringComparer.Ordinal));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
