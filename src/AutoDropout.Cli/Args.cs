namespace AutoDropout.Cli;

/// <summary>
/// A small command-line reader: positional words, "--name value" options and "--flag" switches, for the `bench` and
/// `node` verbs only; removed when bench and node parse with System.CommandLine.
/// </summary>
public sealed class Args
{
    private readonly List<string> _positional = new();
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args, IReadOnlySet<string> switches)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) (name, value) = (name[..eq], name[(eq + 1)..]);
                else if (!switches.Contains(name))
                {
                    if (i + 1 >= list.Count) throw new UsageException($"--{name} needs a value");
                    value = list[++i];
                }
                _options[name] = value;
            }
            else _positional.Add(a);
        }
    }

    public IReadOnlyList<string> Positional => _positional;

    public bool Flag(string name)
    {
        _used.Add(name);
        return _options.ContainsKey(name);
    }

    public string? Get(string name, string? environment = null)
    {
        _used.Add(name);
        if (_options.TryGetValue(name, out var value)) return value;
        return environment is null ? null : Environment.GetEnvironmentVariable(environment) is { Length: > 0 } env ? env : null;
    }

    public string GetOr(string name, string fallback, string? environment = null) => Get(name, environment) ?? fallback;

    public int GetInt(string name, int fallback, string? environment = null)
    {
        var text = Get(name, environment);
        if (text is null) return fallback;
        return int.TryParse(text, out var v) ? v : throw new UsageException($"--{name}: '{text}' is not a whole number");
    }

    public double GetDouble(string name, double fallback)
    {
        var text = Get(name);
        if (text is null) return fallback;
        return double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new UsageException($"--{name}: '{text}' is not a number");
    }

    /// <summary>Fails on options nobody asked for, so a typo is an error and not a silently ignored setting.</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
