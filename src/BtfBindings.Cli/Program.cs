using System;
using BtfBindings.Cli;

using var stdout = Console.OpenStandardOutput();
return BtfGenCommand.Run(args, stdout, Console.Error);
