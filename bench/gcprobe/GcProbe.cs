using System;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Logs the MSBuild process's allocated bytes and collection counts at a point of the build: what the BtfTarget targets
/// and tasks leave in MSBuild's process shows as the difference against the same app without them (a gen0 collection
/// there costs the build ~35 ms).
/// </summary>
public sealed class GcProbe : Task
{
    /// <summary>Where in the build.</summary>
    public string At { get; set; } = "";

    public override bool Execute()
    {
        Log.LogMessage(MessageImportance.High, "GCPROBE {0} {1} {2} {3} {4}", At, GC.GetTotalAllocatedBytes(true),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        return true;
    }
}
