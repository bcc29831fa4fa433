package cache

// FailMemo is failMemo, for the tests of package cache_test.
const FailMemo = failMemo
