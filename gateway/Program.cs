using LoxiLb.Edge5G.Cli;

return await Edge5GCommandLine.RunAsync(args);
