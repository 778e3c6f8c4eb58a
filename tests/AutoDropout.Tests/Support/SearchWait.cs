using Akka.Actor;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Support;

/// <summary>Waits for a search to get somewhere: updates are learned beside the search's actor, so a policy version
/// is reached a moment after the result that filled its batch was acknowledged.</summary>
public static class SearchWait
{
    /// <summary>The search's details once <paramref name="done"/> holds, or the last ones after 20 s (the caller's
    /// assertion then says what differs).</summary>
    public static async Task<SearchDetails> Until(IActorRef manager, string name, Func<SearchDetails, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var details = await manager.Ask<SearchDetails>(new GetSearch(name), TimeSpan.FromSeconds(20));
            if (done(details) || DateTime.UtcNow > deadline) return details;
            await Task.Delay(50);
        }
    }
}
