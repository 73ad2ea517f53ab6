using System.CommandLine;
using FastLog.Cli.Commands;

var root = new RootCommand("""
    FastLog: a logged block device for crash-consistency testing.
    Logs are dm-log-writes v1, so they move both ways between FastLog and the kernel's tooling.
    """);
foreach (Command command in CommandTable.All())
    root.Subcommands.Add(command);
string[] arguments;
try
{
    arguments = ReplayLogCompatibility.Rewrite(args);
}
catch (ArgumentException e) // an abbreviated option that matches several
{
    Console.Error.WriteLine($"fastlog: {e.Message}");
    return 1;
}
ParseResult parse = root.Parse(arguments);
return CommandTable.ExitCode(parse, parse.Invoke());
