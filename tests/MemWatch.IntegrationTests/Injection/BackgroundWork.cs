namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// Work on a dedicated thread: a blocking remote call must not sit on a thread-pool thread while the test
/// reads the workload's answers asynchronously (2 CPUs: the pool starves and the answer waits for the call).
/// </summary>
internal sealed class BackgroundWork<T>
{
    private readonly Thread _thread;
    private T? _result;
    private Exception? _error;

    public BackgroundWork(Func<T> work)
    {
        _thread = new Thread(() =>
        {
            try
            {
                _result = work();
            }
            catch (Exception e)
            {
                _error = e;
            }
        })
        { IsBackground = true };
        _thread.Start();
    }

    public T Join(TimeSpan timeout)
    {
        if (!_thread.Join(timeout))
        {
            throw new TimeoutException("background work did not finish");
        }

        return _error is null ? _result! : throw new InvalidOperationException("background work failed", _error);
    }
}
