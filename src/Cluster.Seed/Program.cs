using AutoDropout.Cluster;
using AutoDropout.Cluster.Seed;

// autodropout-seed [--port 4053] [--host H] ...: the same start-up as `autodropout node seed`
return NodeCommandLine.Invoke(NodeCommandLine.AsRoot(SeedNode.Command()), args);
