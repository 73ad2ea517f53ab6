using BenchmarkDotNet.Running;
using FastLog.Benchmarks;

if (args.Length > 0 && args[0] == "log-writer")
    return LogWriterThroughput.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
