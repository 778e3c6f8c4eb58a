using System.Diagnostics;

namespace AutoDropout.Cluster;

/// <summary>Ends a child node when the process that launched it is gone, so a killed launcher leaves no orphans.</summary>
public static class ParentWatchdog
{
    public static void Start(int parentProcessId, Action onParentGone)
    {
        var thread = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(1000);
                if (!IsAlive(parentProcessId))
                {
                    onParentGone();
                    return;
                }
            }
        })
        { IsBackground = true, Name = "parent-watchdog" };
        thread.Start();
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
