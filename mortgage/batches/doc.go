// Package batches takes the provident fund centre's batch files
// (docs/batches.md): it stores an upload as it streams in (Store, Upload)
// and decides its records in the background on every node (Worker), each
// record submitted like a bundle through the mortgage domain, its result
// stored once. It owns the batches, batch_chunks and batch_records tables;
// the batch types themselves (mortgage.Batch, mortgage.BatchRecord) are the
// domain's, as partners render them and events carry them.
package batches
