// Like pg-pool's suite: an unhandled rejection anywhere fails the run instead of scrolling past.
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
});
