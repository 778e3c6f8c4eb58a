using System.Text.Json;

namespace AutoDropout.Tests.Support;

/// <summary>One instruction of a Dockerfile: its keyword (upper case), its flags (--from=build) and its arguments.</summary>
internal sealed record DockerInstruction(string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments, int Line)
{
    /// <summary>The arguments as words; the JSON (exec) form is read as JSON.</summary>
    public IReadOnlyList<string> Words => Arguments.TrimStart().StartsWith('[')
        ? JsonSerializer.Deserialize<string[]>(Arguments) ?? []
        : Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public bool IsExecForm => Arguments.TrimStart().StartsWith('[');
}

/// <summary>A build stage: FROM image [AS name] and the instructions up to the next FROM.</summary>
internal sealed record DockerStage(string Image, string? Name, List<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    /// <summary>ENV settings of this stage, both the k=v form and the old "ENV k v" one.</summary>
    public Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>();
        foreach (var i in All("ENV"))
        {
            var words = i.Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && !words[0].Contains('=')) env[words[0]] = string.Join(' ', words[1..]);
            else foreach (var w in words) if (w.Split('=', 2) is [var k, var v]) env[k] = v.Trim('"');
        }
        return env;
    }
}

/// <summary>
/// A small line parser for Dockerfiles: no Dockerfile parser is published for .NET, and the images use only the
/// plain syntax (instructions, backslash continuations, comments, exec-form JSON arrays; no heredocs).
/// </summary>
internal sealed class Dockerfile
{
    public List<DockerStage> Stages { get; } = [];

    /// <summary>ARGs declared before the first FROM (usable in FROM lines).</summary>
    public List<DockerInstruction> GlobalArgs { get; } = [];

    public DockerStage Runtime => Stages[^1];

    public static Dockerfile Parse(string text)
    {
        var file = new Dockerfile();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int start = n + 1;
            // continuation lines; comment lines inside a continued instruction are dropped, as Docker does
            while (line.EndsWith('\\') && n + 1 < lines.Length)
            {
                var next = lines[++n].Trim();
                while ((next.Length == 0 || next.StartsWith('#')) && n + 1 < lines.Length) next = lines[++n].Trim();
                line = line[..^1].TrimEnd() + " " + next;
            }
            int space = line.IndexOfAny([' ', '\t']);
            var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var rest = space < 0 ? "" : line[(space + 1)..].Trim();
            var flags = new Dictionary<string, string>();
            while (rest.StartsWith("--", StringComparison.Ordinal))
            {
                int end = rest.IndexOf(' ', StringComparison.Ordinal);
                var flag = end < 0 ? rest : rest[..end];
                var parts = flag[2..].Split('=', 2);
                flags[parts[0]] = parts.Length > 1 ? parts[1] : "";
                rest = end < 0 ? "" : rest[(end + 1)..].TrimStart();
            }
            var instruction = new DockerInstruction(keyword, flags, rest, start);
            if (keyword == "FROM")
            {
                var words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                file.Stages.Add(new DockerStage(words[0], words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, []));
            }
            else if (file.Stages.Count == 0)
            {
                if (keyword != "ARG") throw new FormatException($"line {start}: {keyword} before FROM");
                file.GlobalArgs.Add(instruction);
            }
            else file.Stages[^1].Instructions.Add(instruction);
        }
        if (file.Stages.Count == 0) throw new FormatException("no FROM");
        return file;
    }
}
