using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using Akka.Pattern;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>The registry asks a search for its state to plan an evaluation of it (a local message: never serialised).</summary>
internal sealed record GetSearchState;

/// <summary>Time to start a stopped search or evaluation actor again (local).</summary>
internal sealed record RestartJob(string Name, IActorRef Stopped);

/// <summary>
/// The controller singleton: knows every search and evaluation job (persisted, so it knows them after a restart),
/// hosts one <see cref="SearchController"/> child per search and one <see cref="EvaluationController"/> per
/// evaluation, and routes trainers' requests and operators' commands to them. Search and evaluation names share one
/// namespace, because results come back addressed by name.
/// </summary>
public sealed partial class SearchManager : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan SummaryTimeout = TimeSpan.FromSeconds(5);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<string> _names = new();
    private readonly Dictionary<string, IActorRef> _searches = new();
    private readonly List<string> _evaluationNames = new();
    private readonly Dictionary<string, IActorRef> _evaluations = new();
    private readonly Dictionary<string, JobHealth> _health = new();
    private readonly TimeSpan _minRestart;
    private readonly TimeSpan _maxRestart;
    private int _nextOffer;
    private int _nextEvaluationOffer;

    public SearchManager()
    {
        var config = Context.System.Settings.Config;
        _minRestart = config.GetTimeSpan("autodropout.controller.restart-min-backoff", TimeSpan.FromSeconds(1));
        _maxRestart = config.GetTimeSpan("autodropout.controller.restart-max-backoff", TimeSpan.FromSeconds(30));
        Recover<SearchRegistered>(Register);
        Recover<EvaluationRegistered>(Register);
        Recover<SearchDeleted>(Unregister);
        Recover<JournalIdentified>(identified => _journalId = identified.JournalId);
        Recover<RecoveryCompleted>(_ => IdentifyJournal());

        Command<RequestWork>(OfferWork);
        Command<TrialResult>(result =>
        {
            if (Down(result.Search) is { } down)
            {
                // a restarting job gets it from the trainer's next resend; a broken one never will
                if (down.Broken is null) return;
                _log.Warning("result for broken job {0} (trial {1}) acknowledged and dropped", result.Search, result.TrialId);
                Sender.Tell(new TrialResultAck(result.Search, result.TrialId));
            }
            else if (Find(result.Search) is { } job) job.Forward(result);
            else
            {
                _log.Warning("result for unknown search {0} (trial {1}) acknowledged and dropped", result.Search, result.TrialId);
                Sender.Tell(new TrialResultAck(result.Search, result.TrialId));
            }
        });
        Command<TrialProgress>(progress => Find(progress.Search)?.Forward(progress));
        Command<StartSearch>(OnStart);
        Command<StartEvaluation>(OnStartEvaluation);
        Command<DeleteSearch>(OnDelete);
        Command<ListSearches>(_ => ListAll(_names, _searches, (name, status, problem) => new SearchSummary(name, status, 0, 0, 0, 0, 0, null, null, problem),
            all => new SearchList(all.OfType<SearchSummary>().ToArray())));
        Command<GetControllerStatus>(_ => ReportStatus());
        Command<UpdateSuccess>(_ => { });
        Command<IUpdateFailure>(failure => _log.Warning("the cluster's journal register was not updated on a majority of nodes: {0}", failure));
        Command<ListEvaluations>(_ => ListAll(_evaluationNames, _evaluations, (name, status, problem) => new EvaluationSummary(name, "", status, 0, 0, 0, 0, problem),
            all => new EvaluationList(all.OfType<EvaluationSummary>().ToArray())));
        Command<GetEvaluation>(get =>
        {
            if (Down(get.Name) is { } down) Sender.Tell(new CommandRejected(down.Rejection("evaluation", get.Name)));
            else if (_evaluations.TryGetValue(get.Name, out var evaluation)) evaluation.Forward(get);
            else Sender.Tell(new CommandRejected($"no such evaluation: '{get.Name}'"));
        });
        Command<ISearchCommand>(command =>
        {
            if (Down(command.Search) is { } down)
                Sender.Tell(new CommandRejected(down.Rejection(_searches.ContainsKey(command.Search) ? "search" : "evaluation", command.Search)));
            else if (_searches.TryGetValue(command.Search, out var search)) search.Forward(command);
            else if (command is StopSearch && _evaluations.TryGetValue(command.Search, out var evaluation)) evaluation.Forward(command);
            else Sender.Tell(new CommandRejected($"no such search: '{command.Search}'"));
        });
        Supervise();
    }

    public override string PersistenceId => "search-registry";

    /// <summary>Where the singleton runs and what it serves from; the snapshot store is read off the actor's thread.</summary>
    private void ReportStatus()
    {
        var config = Context.System.Settings.Config;
        var provider = config.GetString("akka.persistence.snapshot-store.sql.provider-name", "");
        var connection = config.GetString("akka.persistence.snapshot-store.sql.connection-string", "");
        var (kind, location) = ControllerNode.DescribeJournal(provider, connection);
        var status = new ControllerStatus(global::Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), kind, location, _journalId,
            _names.Count, _evaluationNames.Count, null);
        Task.Run(() => status with { NewestSnapshot = ControllerNode.NewestSnapshot(provider, connection) })
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : status, TaskScheduler.Default)
            .PipeTo(Sender);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new SearchManager());

    /// <summary>
    /// The registry as the controller runs it: started again, with growing delays, when a journal failure stops it.
    /// Meanwhile commands are told to try again; trainers resend their results anyway.
    /// </summary>
    public static Props Supervised(TimeSpan? minBackoff = null, TimeSpan? maxBackoff = null) =>
        BackoffSupervisor.Props(Backoff.OnStop(Props(), "registry", minBackoff ?? TimeSpan.FromSeconds(1), maxBackoff ?? TimeSpan.FromSeconds(30), 0.2, -1)
            .WithReplyWhileStopped(new CommandRejected("the controller's registry is restarting after a journal failure; try again in a few seconds")));

    private IActorRef? Find(string name) =>
        Down(name) is not null ? null : _searches.GetValueOrDefault(name) ?? _evaluations.GetValueOrDefault(name);

    /// <summary>The job's health when its actor is not running (restarting or broken); null when it runs or is unknown.</summary>
    private JobHealth? Down(string name) => _health.TryGetValue(name, out var health) && health.Down ? health : null;

    private void Register(SearchRegistered registered)
    {
        if (_names.Contains(registered.Name)) return;
        _names.Add(registered.Name);
        // after recovery: a name deleted and registered again later in the journal would otherwise start twice
        if (!IsRecovering) StartSearchActor(registered.Name);
    }

    private void StartSearchActor(string name) => _searches[name] = Spawn(name, evaluation: false);

    private void Register(EvaluationRegistered registered)
    {
        if (_evaluations.ContainsKey(registered.Name)) return;
        _evaluationNames.Add(registered.Name);
        _evaluations[registered.Name] = Spawn(registered.Name, evaluation: true);
    }

    private IActorRef Spawn(string name, bool evaluation)
    {
        var health = _health.TryGetValue(name, out var h) ? h : _health[name] = new JobHealth();
        health.Down = false;
        health.StartedAt = DateTime.UtcNow;
        var job = evaluation
            ? Context.ActorOf(EvaluationController.Props(name, health.SkipSnapshots), $"evaluation-{name}")
            : Context.ActorOf(SearchController.Props(name, health.SkipSnapshots), $"search-{name}");
        Context.Watch(job);
        return job;
    }

    /// <summary>
    /// A job actor stops when its journal fails (a write, or reading it back). It is started again after a growing
    /// delay, from its journal; one whose journal cannot be decoded even without snapshots is broken and stays down,
    /// while every other job runs on.
    /// </summary>
    private void Supervise()
    {
        Command<JobPersistFailed>(failed =>
        {
            if (NameOf(Sender) is { } name) _health[name].LastFailure = $"journal write failed: {failed.Reason}";
        });
        Command<JobRecoveryFailed>(failed =>
        {
            if (NameOf(Sender) is not { } name) return;
            var health = _health[name];
            health.LastFailure = $"recovery failed: {failed.Reason}";
            if (failed.Undecodable && health.SkipSnapshots) health.Broken = failed.Reason;
            health.SkipSnapshots = true; // a bad snapshot is skipped next time; the events say the same
        });
        Command<Terminated>(terminated =>
        {
            if (NameOf(terminated.ActorRef) is not { } name) return;
            var health = _health[name];
            health.Down = true;
            if (health.Broken is { } why)
            {
                _log.Error("{0} is broken and stays down: {1}", name, why);
                return;
            }
            if (DateTime.UtcNow - health.StartedAt > 2 * _maxRestart) health.Restarts = 0; // it ran a good while: start the delays over
            health.Restarts++;
            var delay = JobHealth.Delay(health.Restarts, _minRestart, _maxRestart);
            _log.Warning("{0} stopped ({1}); starting it again from its journal in {2:0.#} s", name, health.LastFailure ?? "no reason given", delay.TotalSeconds);
            Timers.StartSingleTimer($"restart-{name}", new RestartJob(name, terminated.ActorRef), delay);
        });
        Command<RestartJob>(restart =>
        {
            if (Down(restart.Name) is null) return;
            if (_searches.TryGetValue(restart.Name, out var search) && search.Equals(restart.Stopped))
                _searches[restart.Name] = Spawn(restart.Name, evaluation: false);
            else if (_evaluations.TryGetValue(restart.Name, out var evaluation) && evaluation.Equals(restart.Stopped))
                _evaluations[restart.Name] = Spawn(restart.Name, evaluation: true);
        });
    }

    private string? NameOf(IActorRef job) =>
        _searches.FirstOrDefault(kv => kv.Value.Equals(job)).Key ?? _evaluations.FirstOrDefault(kv => kv.Value.Equals(job)).Key;

    private void OnStart(StartSearch start)
    {
        try { start.Spec.Validate(); }
        catch (ArgumentException e)
        {
            Sender.Tell(new CommandRejected(e.Message));
            return;
        }
        if (_evaluations.ContainsKey(start.Spec.Name))
        {
            Sender.Tell(new CommandRejected($"name: '{start.Spec.Name}' is an evaluation's; a search needs a name of its own"));
            return;
        }
        if (Down(start.Spec.Name) is { } down)
        {
            Sender.Tell(new CommandRejected(down.Rejection("search", start.Spec.Name)));
            return;
        }
        if (_searches.TryGetValue(start.Spec.Name, out var existing))
        {
            existing.Forward(start); // it rejects if it holds a spec already
            return;
        }
        var replyTo = Sender;
        Persist(new SearchRegistered(start.Spec.Name), registered =>
        {
            Register(registered);
            _searches[registered.Name].Tell(start, replyTo);
        });
    }

    /// <summary>Plans the job from the search's state as it is now, then registers and starts it.</summary>
    private void OnStartEvaluation(StartEvaluation start)
    {
        var request = start.Request;
        if (!_searches.TryGetValue(request.Search, out var search))
        {
            Sender.Tell(new CommandRejected($"no such search: '{request.Search}'"));
            return;
        }
        if (Down(request.Search) is { } down)
        {
            Sender.Tell(new CommandRejected(down.Rejection("search", request.Search)));
            return;
        }
        if (request.Name is { } name && (_searches.ContainsKey(name) || _evaluations.ContainsKey(name)))
        {
            Sender.Tell(new CommandRejected($"name: '{name}' is taken by a {(_searches.ContainsKey(name) ? "search" : "evaluation")}"));
            return;
        }
        var replyTo = Sender;
        var taken = _names.Concat(_evaluationNames).ToHashSet();
        search.Ask<object>(new GetSearchState(), SummaryTimeout).PipeTo(Self, replyTo,
            success: reply => reply is SearchState state ? new PlanEvaluation(request, state, taken) : new CommandRejected($"no such search: '{request.Search}'"),
            failure: _ => new CommandRejected($"search '{request.Search}' did not answer in time; try again"));
        BecomeStacked(() => AwaitingPlan(replyTo));
    }

    private sealed record PlanEvaluation(EvaluationRequest Request, SearchState Search, IReadOnlySet<string> Taken);

    /// <summary>One evaluation is planned at a time, so two requests cannot both take the same default name.</summary>
    private void AwaitingPlan(IActorRef replyTo)
    {
        Command<PlanEvaluation>(plan =>
        {
            EvaluationSpec spec;
            try { spec = EvaluationPlanner.Plan(plan.Request, plan.Search, plan.Taken); }
            catch (ArgumentException e)
            {
                replyTo.Tell(new CommandRejected(e.Message));
                UnbecomeToReady();
                return;
            }
            Persist(new EvaluationRegistered(spec.Name), registered =>
            {
                Register(registered);
                _evaluations[registered.Name].Tell(new CreateEvaluation(spec), replyTo);
                UnbecomeToReady();
            });
        });
        Command<CommandRejected>(rejected =>
        {
            replyTo.Tell(rejected);
            UnbecomeToReady();
        });
        CommandAny(_ => Stash.Stash());
    }

    private void UnbecomeToReady()
    {
        Stash.UnstashAll();
        UnbecomeStacked();
    }

    /// <summary>Searches take turns offering work, so several running searches share the trainers; so do evaluations.</summary>
    private void OfferWork(RequestWork request)
    {
        var (all, jobs) = request.Kind == WorkKind.Evaluation ? (_evaluationNames, _evaluations) : (_names, _searches);
        var names = all.Where(n => Down(n) is null).ToList();
        if (names.Count == 0)
        {
            Sender.Tell(new NoWorkAvailable(2000));
            return;
        }
        int start = (request.Kind == WorkKind.Evaluation ? _nextEvaluationOffer++ : _nextOffer++) % names.Count;
        var order = Enumerable.Range(0, names.Count).Select(i => jobs[names[(start + i) % names.Count]]).ToArray();
        order[0].Tell(new OfferWork(request, Sender, order[1..]));
    }

    /// <summary>Always answers: a job that is down, or does not answer in time, is listed as broken or unavailable.</summary>
    private void ListAll(IReadOnlyList<string> names, Dictionary<string, IActorRef> jobs, Func<string, SearchStatus, string, object> placeholder,
        Func<object[], object> reply)
    {
        var replyTo = Sender;
        var asks = names.Select(name => Down(name) is { } down
            ? Task.FromResult(placeholder(name, down.Broken is null ? SearchStatus.Unavailable : SearchStatus.Broken, down.Problem))
            : jobs[name].Ask<object>(new GetSummary(), SummaryTimeout).ContinueWith(ask => ask.IsCompletedSuccessfully
                ? ask.Result
                : placeholder(name, SearchStatus.Unavailable, $"did not answer within {SummaryTimeout.TotalSeconds:0} s"), TaskScheduler.Default)).ToArray();
        Task.WhenAll(asks).ContinueWith(done => reply(done.Result), TaskScheduler.Default).PipeTo(replyTo);
    }
}
