using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AutoDropout.Messages;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// The controller singleton: knows every search (persisted, so it knows them after a restart), hosts one
/// <see cref="SearchController"/> child per search, and routes trainers' requests and operators' commands to them.
/// </summary>
public sealed class SearchManager : ReceivePersistentActor
{
    private static readonly TimeSpan SummaryTimeout = TimeSpan.FromSeconds(5);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<string> _names = new();
    private readonly Dictionary<string, IActorRef> _searches = new();
    private int _nextOffer;

    public SearchManager()
    {
        Recover<SearchRegistered>(Register);

        Command<RequestWork>(OfferWork);
        Command<TrialResult>(result =>
        {
            if (_searches.TryGetValue(result.Search, out var search)) search.Forward(result);
            else
            {
                _log.Warning("result for unknown search {0} (trial {1}) acknowledged and dropped", result.Search, result.TrialId);
                Sender.Tell(new TrialResultAck(result.Search, result.TrialId));
            }
        });
        Command<TrialProgress>(progress =>
        {
            if (_searches.TryGetValue(progress.Search, out var search)) search.Forward(progress);
        });
        Command<StartSearch>(OnStart);
        Command<ListSearches>(_ => ListAll());
        Command<ISearchCommand>(command =>
        {
            if (_searches.TryGetValue(command.Search, out var search)) search.Forward(command);
            else Sender.Tell(new CommandRejected($"no such search: '{command.Search}'"));
        });
    }

    public override string PersistenceId => "search-registry";

    public static Props Props() => Akka.Actor.Props.Create(() => new SearchManager());

    private void Register(SearchRegistered registered)
    {
        if (_searches.ContainsKey(registered.Name)) return;
        _names.Add(registered.Name);
        _searches[registered.Name] = Context.ActorOf(SearchController.Props(registered.Name), $"search-{registered.Name}");
    }

    private void OnStart(StartSearch start)
    {
        try { start.Spec.Validate(); }
        catch (ArgumentException e)
        {
            Sender.Tell(new CommandRejected(e.Message));
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

    /// <summary>Searches take turns offering work, so several running searches share the trainers.</summary>
    private void OfferWork(RequestWork request)
    {
        if (_names.Count == 0)
        {
            Sender.Tell(new NoWorkAvailable(2000));
            return;
        }
        int start = _nextOffer++ % _names.Count;
        var order = Enumerable.Range(0, _names.Count).Select(i => _searches[_names[(start + i) % _names.Count]]).ToArray();
        order[0].Tell(new OfferWork(request, Sender, order[1..]));
    }

    private void ListAll()
    {
        var replyTo = Sender;
        var asks = _names.Select(n => _searches[n].Ask<object>(new GetSummary(), SummaryTimeout)).ToArray();
        Task.WhenAll(asks).ContinueWith(done =>
        {
            if (done.IsFaulted) return (object)new CommandRejected("a search did not answer in time; try again");
            return new SearchList(done.Result.OfType<SearchSummary>().ToArray());
        }).PipeTo(replyTo);
    }
}
