using System.CommandLine;

var root = new RootCommand("FastLog: a logged block device for crash-consistency testing (dm-log-writes v1 logs).");
return root.Parse(args).Invoke();
