// Imported first by every start-up bundle (site.mjs), so it is the bundle's first
// statement: the runner reports the time from the bundle's arrival to here (parse, link)
// and from here to ready (the client's own work) for every candidate alike.
performance.mark("bundle start");
