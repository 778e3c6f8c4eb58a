using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>The registry asks a search for its state to plan an evaluation of it (a local message: never serialised).</summary>
internal sealed record GetSearchState;

/// <summary>
/// The controller singleton: knows every search and evaluation job (persisted, so it knows them after a restart),
/// hosts one <see cref="SearchController"/> child per search and one <see cref="EvaluationController"/> per
/// evaluation, and routes trainers' requests and operators' commands to them. Search and evaluation names share one
/// namespace, because results come back addressed by name.
/// </summary>
public sealed partial class SearchManager : ReceivePersistentActor
{
    private static readonly TimeSpan SummaryTimeout = TimeSpan.FromSeconds(5);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<string> _names = new();
    private readonly Dictionary<string, IActorRef> _searches = new();
    private readonly List<string> _evaluationNames = new();
    private readonly Dictionary<string, IActorRef> _evaluations = new();
    private int _nextOffer;
    private int _nextEvaluationOffer;

    public SearchManager()
    {
        Recover<SearchRegistered>(Register);
        Recover<EvaluationRegistered>(Register);
        Recover<SearchDeleted>(Unregister);
        Recover<RecoveryCompleted>(_ => StartRecoveredSearches());

        Command<RequestWork>(OfferWork);
        Command<TrialResult>(result =>
        {
            if (Find(result.Search) is { } job) job.Forward(result);
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
        Command<ListSearches>(_ => ListAll(_names.Select(n => _searches[n]), all => new SearchList(all.OfType<SearchSummary>().ToArray())));
        Command<ListEvaluations>(_ => ListAll(_evaluationNames.Select(n => _evaluations[n]), all => new EvaluationList(all.OfType<EvaluationSummary>().ToArray())));
        Command<GetEvaluation>(get =>
        {
            if (_evaluations.TryGetValue(get.Name, out var evaluation)) evaluation.Forward(get);
            else Sender.Tell(new CommandRejected($"no such evaluation: '{get.Name}'"));
        });
        Command<ISearchCommand>(command =>
        {
            if (_searches.TryGetValue(command.Search, out var search)) search.Forward(command);
            else if (command is StopSearch && _evaluations.TryGetValue(command.Search, out var evaluation)) evaluation.Forward(command);
            else Sender.Tell(new CommandRejected($"no such search: '{command.Search}'"));
        });
    }

    public override string PersistenceId => "search-registry";

    public static Props Props() => Akka.Actor.Props.Create(() => new SearchManager());

    private IActorRef? Find(string name) => _searches.GetValueOrDefault(name) ?? _evaluations.GetValueOrDefault(name);

    private void Register(SearchRegistered registered)
    {
        if (_names.Contains(registered.Name)) return;
        _names.Add(registered.Name);
        // after recovery: a name deleted and registered again later in the journal would otherwise start twice
        if (!IsRecovering) StartSearchActor(registered.Name);
    }

    private void StartSearchActor(string name) => _searches[name] = Context.ActorOf(SearchController.Props(name), $"search-{name}");

    private void Register(EvaluationRegistered registered)
    {
        if (_evaluations.ContainsKey(registered.Name)) return;
        _evaluationNames.Add(registered.Name);
        _evaluations[registered.Name] = Context.ActorOf(EvaluationController.Props(registered.Name), $"evaluation-{registered.Name}");
    }

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
        var (names, jobs) = request.Kind == WorkKind.Evaluation ? (_evaluationNames, _evaluations) : (_names, _searches);
        if (names.Count == 0)
        {
            Sender.Tell(new NoWorkAvailable(2000));
            return;
        }
        int start = (request.Kind == WorkKind.Evaluation ? _nextEvaluationOffer++ : _nextOffer++) % names.Count;
        var order = Enumerable.Range(0, names.Count).Select(i => jobs[names[(start + i) % names.Count]]).ToArray();
        order[0].Tell(new OfferWork(request, Sender, order[1..]));
    }

    private void ListAll(IEnumerable<IActorRef> jobs, Func<object[], object> reply)
    {
        var replyTo = Sender;
        var asks = jobs.Select(j => j.Ask<object>(new GetSummary(), SummaryTimeout)).ToArray();
        Task.WhenAll(asks).ContinueWith(done => done.IsFaulted ? new CommandRejected("a search did not answer in time; try again") : reply(done.Result))
            .PipeTo(replyTo);
    }
}
