using System.Diagnostics;

namespace MemWatch.Daemon.Tests.Support;

/// <summary>Polls a condition instead of sleeping a fixed time: robust on a loaded machine.</summary>
public static class Poll
{
    public static void Until(Func<bool> condition, TimeSpan timeout, Func<string> failure, int everyMilliseconds = 200)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout)
            {
                Assert.Fail($"after {timeout.TotalSeconds:0} s: {failure()}");
            }

            Thread.Sleep(everyMilliseconds);
        }
    }

    public static T Until<T>(Func<T?> value, TimeSpan timeout, Func<string> failure, int everyMilliseconds = 200)
        where T : class
    {
        T? result = null;
        Until(() => (result = value()) is not null, timeout, failure, everyMilliseconds);
        return result!;
    }
}
