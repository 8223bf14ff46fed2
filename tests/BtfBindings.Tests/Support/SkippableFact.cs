using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace BtfBindings.Tests.Support
{
    /// <summary>Thrown by a <see cref="SkippableFactAttribute"/> test to report itself skipped, with the reason (xunit 2 has no dynamic skip).</summary>
    public sealed class SkipTestException : Exception
    {
        public SkipTestException(string reason) : base(reason) { }
    }

    /// <summary>A fact that may skip itself at run time by throwing <see cref="SkipTestException"/>.</summary>
    [XunitTestCaseDiscoverer("BtfBindings.Tests.Support.SkippableFactDiscoverer", "BtfBindings.Tests")]
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class SkippableFactAttribute : FactAttribute { }

    public sealed class SkippableFactDiscoverer : IXunitTestCaseDiscoverer
    {
        private readonly IMessageSink _sink;
        public SkippableFactDiscoverer(IMessageSink sink) { _sink = sink; }

        public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attr)
        {
            yield return new SkippableTestCase(_sink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method);
        }
    }

    public sealed class SkippableTestCase : XunitTestCase
    {
        [EditorBrowsable(EditorBrowsableState.Never)]
        [Obsolete("Called by the de-serializer", true)]
        public SkippableTestCase() { }

        public SkippableTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod method)
            : base(sink, display, displayOptions, method) { }

        public override async Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments,
            ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
        {
            var bus = new SkippingBus(messageBus);
            var summary = await base.RunAsync(diagnosticMessageSink, bus, constructorArguments, aggregator, cancellationTokenSource);
            if (bus.Skipped > 0)
            {
                summary.Failed -= bus.Skipped;
                summary.Skipped += bus.Skipped;
            }
            return summary;
        }

        private sealed class SkippingBus : IMessageBus
        {
            private readonly IMessageBus _inner;
            public int Skipped;
            public SkippingBus(IMessageBus inner) { _inner = inner; }
            public void Dispose() { }
            public bool QueueMessage(IMessageSinkMessage message)
            {
                if (message is ITestFailed failed && failed.ExceptionTypes.FirstOrDefault() == typeof(SkipTestException).FullName)
                {
                    Skipped++;
                    return _inner.QueueMessage(new TestSkipped(failed.Test, failed.Messages.FirstOrDefault() ?? "skipped"));
                }
                return _inner.QueueMessage(message);
            }
        }
    }
}
