using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace BtfBindings
{
    /// <summary>
    /// Work offered to a thread-pool thread, which the offering thread runs itself if no pool thread has taken it by
    /// the time the result is needed. A starved thread pool (a busy compiler, an application that blocks its pool) then
    /// costs only the parallelism: nothing ever waits on a thread that is not running.
    /// </summary>
    internal sealed class SharedWork
    {
        private readonly Action _work;
        private int _taken;            // 1 once a thread has started the work
        private volatile bool _done;
        private ExceptionDispatchInfo? _error;

        public SharedWork(Action work)
        {
            _work = work;
            ThreadPool.QueueUserWorkItem(s => ((SharedWork)s!).TryRun(), this);
        }

        private void TryRun()
        {
            if (Interlocked.CompareExchange(ref _taken, 1, 0) != 0) return;
            try { _work(); }
            catch (Exception e) { _error = ExceptionDispatchInfo.Capture(e); }
            finally { _done = true; }
        }

        /// <summary>Runs the work here unless a pool thread has started it, then waits for it (it is running) and rethrows its exception.</summary>
        public void Join()
        {
            TryRun();
            var spin = new SpinWait();
            while (!_done) Pause(ref spin);
            _error?.Throw();
        }

        /// <summary>One step of waiting for another thread that is running and microseconds from done: spins, then yields, never Sleep(1).</summary>
        internal static void Pause(ref SpinWait spin)
        {
#if NET
            spin.SpinOnce(sleep1Threshold: -1);
#else
            if (spin.NextSpinWillYield) Thread.Yield(); else spin.SpinOnce();
#endif
        }
    }
}
