using System;
using System.Collections.Generic;
using System.IO;
using BtfBindings.Build.TypesAssembly;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace BtfBindings.Build
{
    /// <summary>
    /// The automatic types assembly (BtfBindingsTypesAssembly=auto): of the project's <c>@(Compile)</c> files, those holding a
    /// <c>[BtfTypes]</c> request that stand alone (<see cref="StandaloneRequests"/>), which the targets then treat as
    /// <c>BtfTypesAssembly</c> items. Each file mentioning BtfTypes that stays in the project gets a message saying why.
    /// </summary>
    public sealed class FindStandaloneRequests : Task
    {
        /// <summary>The project's Compile items.</summary>
        [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>The items of <see cref="Files"/> that go into the types assembly.</summary>
        [Output] public ITaskItem[] Standalone { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var files = new List<(string path, byte[] bytes)>(Files.Length);
            var items = new Dictionary<string, ITaskItem>(StringComparer.Ordinal);
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!path.EndsWith(".cs", StringComparison.OrdinalIgnoreCase) || items.ContainsKey(path)) continue;
                try { files.Add((path, File.ReadAllBytes(path))); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // The compiler reports it; without the file's text nothing may leave the project.
                    Log.LogMessage(MessageImportance.Normal, "BtfBindings: no types assembly: '{0}' cannot be read ({1})", item.ItemSpec, e.Message);
                    return true;
                }
                items[path] = item;
            }
            long read = clock.ElapsedMilliseconds;
            var verdicts = StandaloneRequests.Decide(files);
            Log.LogMessage(MessageImportance.Low, "BtfBindings: {0} C# files read in {1} ms, decided in {2} ms", files.Count, read, clock.ElapsedMilliseconds - read);
            var standalone = new List<ITaskItem>();
            foreach (var v in verdicts)
            {
                if (v.StandsAlone)
                {
                    standalone.Add(items[v.Path]);
                    Log.LogMessage(MessageImportance.Low, "BtfBindings: '{0}' stands alone: compiled into the types assembly", items[v.Path].ItemSpec);
                }
                else
                    Log.LogMessage(MessageImportance.Normal,
                        "BtfBindings: '{0}' mentions BtfTypes but is compiled with the project (its generated types too, on every build): {1}. A file holding only "
                        + "System/BtfBindings using directives, a namespace and empty partial classes with [BtfTypes] is compiled into its own assembly instead, "
                        + "again only when it changes (README, Faster rebuilds); set BtfBindingsTypesAssembly=false to keep requests in the project quietly.",
                        items[v.Path].ItemSpec, v.Reason);
            }
            Standalone = standalone.ToArray();
            return true;
        }
    }
}
