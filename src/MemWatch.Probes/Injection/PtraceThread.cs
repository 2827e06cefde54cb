using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace MemWatch.Probes.Injection;

/// <summary>
/// One dedicated OS thread that issues every ptrace request of a session: the kernel accepts ptrace
/// requests only from the thread that attached (kernel/ptrace.c, ptrace_check_attach), so the thread pool
/// or an await continuation must never be used. Ending the thread makes the kernel detach its tracees.
/// </summary>
internal sealed class PtraceThread : IDisposable
{
    private readonly BlockingCollection<IWorkItem> _queue = new();
    private readonly Thread _thread;

    public PtraceThread(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Set by work that must end the thread (and so release every tracee) after it returns.</summary>
    public bool ExitRequested { get; set; }

    public bool IsAlive => _thread.IsAlive && !_queue.IsAddingCompleted;

    public T Invoke<T>(Func<T> work)
    {
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId)
        {
            return work();
        }

        var item = new WorkItem<T>(work);
        _queue.Add(item);
        item.Done.Wait();
        item.Done.Dispose();
        item.Error?.Throw();

        return item.Result!;
    }

    private void Run()
    {
        foreach (IWorkItem item in _queue.GetConsumingEnumerable())
        {
            item.Execute();
            if (ExitRequested)
            {
                _queue.CompleteAdding();
                break;
            }
        }

        // Fail whatever was queued behind an exit request.
        while (_queue.TryTake(out IWorkItem? late))
        {
            late.Fail(new ObjectDisposedException(nameof(PtraceThread)));
        }
    }

    public void Dispose()
    {
        if (!_queue.IsAddingCompleted)
        {
            _queue.CompleteAdding();
        }

        _thread.Join();
        _queue.Dispose();
    }

    private interface IWorkItem
    {
        void Execute();

        void Fail(Exception e);
    }

    private sealed class WorkItem<T>(Func<T> work) : IWorkItem
    {
        public ManualResetEventSlim Done { get; } = new(false);

        public T? Result { get; private set; }

        public ExceptionDispatchInfo? Error { get; private set; }

        public void Execute()
        {
            try
            {
                Result = work();
            }
            catch (Exception e)
            {
                Error = ExceptionDispatchInfo.Capture(e);
            }

            Done.Set();
        }

        public void Fail(Exception e)
        {
            Error = ExceptionDispatchInfo.Capture(e);
            Done.Set();
        }
    }
}
