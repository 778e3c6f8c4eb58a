using System.Globalization;
using System.Text.Json;
using AutoDropout.Cluster;

namespace AutoDropout.Cli;

/// <param name="Event">Akka's name for it: MemberUp, MemberLeft, MemberExited, MemberRemoved, UnreachableMember, ...</param>
public sealed record MemberChange(string Event, string Address, string Status, string[] Roles);

/// <summary>What `cluster show` and `cluster tail` print: pbm's layout, and the changes between two views of the members.</summary>
public static class Membership
{
    /// <summary>pbm's `cluster show`: one line per member (address | roles | status | version), then the count.</summary>
    public static IEnumerable<string> ShowLines(ClusterView view)
    {
        // in the endpoint's order, which is Akka's: by host, then port
        var members = view.Members.ToList();
        int width = members.Count == 0 ? 0 : members.Max(m => m.Address.Length);
        int rolesWidth = members.Count == 0 ? 0 : members.Max(m => Roles(m.Roles).Length);
        static string Status(ClusterMemberView m) => m.Status + (m.Unreachable ? " (unreachable)" : "") + (m.Leader ? " (leader)" : "");
        int statusWidth = members.Count == 0 ? 0 : members.Max(m => Status(m).Length);
        foreach (var m in members)
            yield return $"{m.Address.PadRight(width)} | {Roles(m.Roles).PadRight(rolesWidth)} | {Status(m).PadRight(statusWidth)} | {m.Version}";
        yield return $"Count: {members.Count} nodes";
    }

    private static string Roles(string[] roles) => $"[{string.Join(",", roles)}]";

    /// <summary>Akka's event for a member first seen, or seen again, in a status.</summary>
    public static string EventFor(string status) => status switch
    {
        "Joining" => "MemberJoined",
        "WeaklyUp" => "MemberWeaklyUp",
        "Up" => "MemberUp",
        "Leaving" => "MemberLeft",
        "Exiting" => "MemberExited",
        "Down" => "MemberDowned",
        "Removed" => "MemberRemoved",
        _ => $"Member{status}",
    };

    /// <summary>Each member as an event, as a subscriber with initial state as events sees them.</summary>
    public static IReadOnlyList<MemberChange> Initial(ClusterView view) =>
        [.. view.Members.SelectMany(m => Arrived(m))];

    /// <summary>What changed from one view to the next, in address order.</summary>
    public static IReadOnlyList<MemberChange> Changes(ClusterView before, ClusterView after)
    {
        var old = before.Members.ToDictionary(m => m.Address);
        var now = after.Members.ToDictionary(m => m.Address);
        var changes = new List<MemberChange>();
        foreach (var address in old.Keys.Union(now.Keys).Order(StringComparer.Ordinal))
        {
            bool was = old.TryGetValue(address, out var o), @is = now.TryGetValue(address, out var n);
            if (!was) changes.AddRange(Arrived(n!));
            else if (!@is) changes.Add(new MemberChange("MemberRemoved", address, "Removed", o!.Roles));
            else
            {
                if (o!.Status != n!.Status) changes.Add(new MemberChange(EventFor(n.Status), address, n.Status, n.Roles));
                if (o.Unreachable != n.Unreachable)
                    changes.Add(new MemberChange(n.Unreachable ? "UnreachableMember" : "ReachableMember", address, n.Status, n.Roles));
                if (!o.Leader && n.Leader) changes.Add(new MemberChange("LeaderChanged", address, n.Status, n.Roles));
            }
        }
        return changes;
    }

    private static IEnumerable<MemberChange> Arrived(ClusterMemberView m)
    {
        yield return new MemberChange(EventFor(m.Status), m.Address, m.Status, m.Roles);
        if (m.Unreachable) yield return new MemberChange("UnreachableMember", m.Address, m.Status, m.Roles);
    }

    public static string Line(DateTime time, MemberChange change) =>
        $"[{time.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {change.Event} {change.Address} [{string.Join(",", change.Roles)}]";

    public static string Json(DateTime time, MemberChange change)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", time.ToString("o", CultureInfo.InvariantCulture));
            json.WriteString("event", change.Event);
            json.WriteString("address", change.Address);
            json.WriteString("status", change.Status);
            json.WriteStartArray("roles");
            foreach (var r in change.Roles) json.WriteStringValue(r);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A duration as `500ms`, `30s`, `2m`, `1h` (a bare number is seconds).</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var t = text.Trim();
        (string number, double unit) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1) : t.EndsWith('m') ? (t[..^1], 60) : t.EndsWith('h') ? (t[..^1], 3600) : (t, 1);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsInfinity(value))
            throw new UsageException($"'{text}' is not a duration (e.g. 500ms, 30s, 2m)");
        return TimeSpan.FromSeconds(value * unit);
    }
}
