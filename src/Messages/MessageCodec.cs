using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AutoDropout.Core;

namespace AutoDropout.Messages;

/// <summary>
/// How everything AutoDropout sends or persists is written: JSON from a source-generated context (no reflection),
/// under explicit manifests. Persisted types carry a version in their manifest ("...-v1"); an old manifest stays
/// readable forever, so a changed event gets a new manifest and the old one keeps its reader, which upcasts to the
/// current form. Akka's serializer (in Cluster.Common) only delegates here, so this project needs no Akka.
/// </summary>
public static class MessageCodec
{
    private static readonly (string Manifest, Type Type)[] Bindings =
    [
        // persisted: versioned
        ("search-created-v2", typeof(SearchCreated)),
        ("trial-proposed-v1", typeof(TrialProposed)),
        ("trial-leased-v1", typeof(TrialLeased)),
        ("trial-completed-v1", typeof(TrialCompleted)),
        ("trial-failed-v1", typeof(TrialFailed)),
        ("trial-requeued-v2", typeof(TrialRequeued)),
        ("policy-updated-v1", typeof(PolicyUpdated)),
        ("search-paused-v2", typeof(SearchPaused)),
        ("search-resumed-v1", typeof(SearchResumed)),
        ("search-stopped-v1", typeof(SearchStopped)),
        ("search-extended-v1", typeof(SearchExtended)),
        ("search-registered-v1", typeof(SearchRegistered)),
        ("search-deleted-v1", typeof(SearchDeleted)),
        ("journal-identified-v1", typeof(JournalIdentified)),
        ("search-snapshot-v3", typeof(SearchSnapshot)),
        ("evaluation-created-v1", typeof(EvaluationCreated)),
        ("evaluation-registered-v1", typeof(EvaluationRegistered)),
        // on the wire only
        ("request-work", typeof(RequestWork)),
        ("no-work", typeof(NoWorkAvailable)),
        ("work-assignment", typeof(WorkAssignment)),
        ("trial-result", typeof(TrialResult)),
        ("trial-result-ack", typeof(TrialResultAck)),
        ("trial-progress", typeof(TrialProgress)),
        ("cancel-trial", typeof(CancelTrial)),
        ("get-trainers", typeof(GetTrainers)),
        ("trainer-node-status", typeof(TrainerNodeStatus)),
        ("drain-trainers", typeof(DrainTrainers)),
        ("render-masks", typeof(RenderMasks)),
        ("mask-picture", typeof(MaskPicture)),
        ("start-search", typeof(StartSearch)),
        ("get-search", typeof(GetSearch)),
        ("pause-search", typeof(PauseSearch)),
        ("resume-search", typeof(ResumeSearch)),
        ("stop-search", typeof(StopSearch)),
        ("extend-search", typeof(ExtendSearch)),
        ("delete-search", typeof(DeleteSearch)),
        ("list-searches", typeof(ListSearches)),
        ("get-controller-status", typeof(GetControllerStatus)),
        ("controller-status", typeof(ControllerStatus)),
        ("command-accepted", typeof(CommandAccepted)),
        ("command-rejected", typeof(CommandRejected)),
        ("search-list", typeof(SearchList)),
        ("search-details", typeof(SearchDetails)),
        ("start-evaluation", typeof(StartEvaluation)),
        ("get-evaluation", typeof(GetEvaluation)),
        ("list-evaluations", typeof(ListEvaluations)),
        ("evaluation-list", typeof(EvaluationList)),
        ("evaluation-details", typeof(EvaluationDetails)),
    ];

    /// <summary>Old forms, read only: each decodes to its own record, which <see cref="Upcast"/> turns into today's.</summary>
    private static readonly (string Manifest, Type Type)[] Legacy =
    [
        ("trial-requeued-v1", typeof(TrialRequeuedV1)),
        // the same shape as today's, written before advantages were normalised: their searches learn from raw ones
        ("search-created-v1", typeof(SearchCreated)),
        ("search-snapshot-v1", typeof(SearchSnapshot)),
        // without failure messages and pause reasons, which read as null
        ("search-snapshot-v2", typeof(SearchSnapshot)),
        // an operator's pause, before searches could pause themselves: no fields, read as no reason
        ("search-paused-v1", typeof(SearchPaused)),
    ];

    private static readonly FrozenDictionary<Type, string> ManifestByType = Bindings.ToFrozenDictionary(b => b.Type, b => b.Manifest);
    private static readonly FrozenDictionary<string, Type> TypeByManifest = Bindings.Concat(Legacy).ToFrozenDictionary(b => b.Manifest, b => b.Type);

    /// <summary>Every type written today.</summary>
    public static IReadOnlyCollection<Type> BoundTypes => ManifestByType.Keys;

    /// <summary>Every manifest that can be read: today's and the old forms'.</summary>
    public static IReadOnlyCollection<string> ReadableManifests => TypeByManifest.Keys;

    public static string Manifest(object o) =>
        ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} is not bound in {nameof(MessageCodec)}");

    public static byte[] ToBinary(object obj) =>
        JsonSerializer.SerializeToUtf8Bytes(obj, MessageJsonContext.Default.GetTypeInfo(obj.GetType())
            ?? throw new ArgumentException($"no JSON contract for {obj.GetType()}"));

    /// <summary>Decodes any readable manifest into today's form of the message.</summary>
    public static object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypeByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown manifest '{manifest}': written by a newer AutoDropout?");
        var decoded = JsonSerializer.Deserialize(bytes, MessageJsonContext.Default.GetTypeInfo(type)!)
            ?? throw new SerializationException($"'{manifest}' decoded to null");
        return Upcast(decoded, manifest);
    }

    private static object Upcast(object decoded, string manifest) => (decoded, manifest) switch
    {
        (TrialRequeuedV1 old, _) => old.Upcast(),
        (SearchCreated created, "search-created-v1") => created with { Spec = WithRawAdvantages(created.Spec) },
        (SearchSnapshot snapshot, "search-snapshot-v1") => snapshot with { Spec = WithRawAdvantages(snapshot.Spec) },
        _ => decoded,
    };

    /// <summary>A spec written before advantages were normalised, with the policy options it ran with spelled out.</summary>
    private static SearchSpec WithRawAdvantages(SearchSpec spec) =>
        spec with { Policy = (spec.Policy ?? PolicyOptions.FirstRelease) with { Advantage = PolicyOptions.Raw } };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SearchCreated))]
[JsonSerializable(typeof(TrialProposed))]
[JsonSerializable(typeof(TrialLeased))]
[JsonSerializable(typeof(TrialCompleted))]
[JsonSerializable(typeof(TrialFailed))]
[JsonSerializable(typeof(TrialRequeued))]
[JsonSerializable(typeof(TrialRequeuedV1))]
[JsonSerializable(typeof(PolicyUpdated))]
[JsonSerializable(typeof(SearchPaused))]
[JsonSerializable(typeof(SearchResumed))]
[JsonSerializable(typeof(SearchStopped))]
[JsonSerializable(typeof(SearchExtended))]
[JsonSerializable(typeof(ExtendSearch))]
[JsonSerializable(typeof(SearchRegistered))]
[JsonSerializable(typeof(SearchDeleted))]
[JsonSerializable(typeof(JournalIdentified))]
[JsonSerializable(typeof(DeleteSearch))]
[JsonSerializable(typeof(SearchSnapshot))]
[JsonSerializable(typeof(RequestWork))]
[JsonSerializable(typeof(NoWorkAvailable))]
[JsonSerializable(typeof(WorkAssignment))]
[JsonSerializable(typeof(TrialResult))]
[JsonSerializable(typeof(TrialResultAck))]
[JsonSerializable(typeof(TrialProgress))]
[JsonSerializable(typeof(CancelTrial))]
[JsonSerializable(typeof(GetTrainers))]
[JsonSerializable(typeof(TrainerNodeStatus))]
[JsonSerializable(typeof(DrainTrainers))]
[JsonSerializable(typeof(RenderMasks))]
[JsonSerializable(typeof(MaskPicture))]
[JsonSerializable(typeof(StartSearch))]
[JsonSerializable(typeof(GetSearch))]
[JsonSerializable(typeof(PauseSearch))]
[JsonSerializable(typeof(ResumeSearch))]
[JsonSerializable(typeof(StopSearch))]
[JsonSerializable(typeof(ListSearches))]
[JsonSerializable(typeof(GetControllerStatus))]
[JsonSerializable(typeof(ControllerStatus))]
[JsonSerializable(typeof(CommandAccepted))]
[JsonSerializable(typeof(CommandRejected))]
[JsonSerializable(typeof(SearchList))]
[JsonSerializable(typeof(SearchDetails))]
[JsonSerializable(typeof(EvaluationCreated))]
[JsonSerializable(typeof(EvaluationRegistered))]
[JsonSerializable(typeof(StartEvaluation))]
[JsonSerializable(typeof(GetEvaluation))]
[JsonSerializable(typeof(ListEvaluations))]
[JsonSerializable(typeof(EvaluationList))]
[JsonSerializable(typeof(EvaluationDetails))]
public sealed partial class MessageJsonContext : JsonSerializerContext;
