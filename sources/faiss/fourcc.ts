/**
 * The fourccs faiss's read_index (faiss/impl/index_read.cpp) accepts for float
 * indexes, with the class each one stands for. A file whose first four bytes
 * are not one of these is not a FAISS index that faiss-node could load.
 * Binary indexes are listed apart in FAISS_BINARY_INDEX_TYPES.
 */
export const FAISS_INDEX_TYPES: Readonly<Record<string, string>> = {
  IxF2: 'IndexFlatL2',
  IxFI: 'IndexFlatIP',
  IxFl: 'IndexFlat',
  IxHE: 'IndexLSH (legacy)',
  IxHe: 'IndexLSH',
  IxPQ: 'IndexPQ (legacy)',
  IxPo: 'IndexPQ (legacy)',
  IxPq: 'IndexPQ',
  IxRQ: 'IndexResidualQuantizer (legacy)',
  IxRq: 'IndexResidualQuantizer',
  IxLS: 'IndexLocalSearchQuantizer',
  IxPR: 'IndexProductResidualQuantizer',
  IxPL: 'IndexProductLocalSearchQuantizer',
  ImRQ: 'ResidualCoarseQuantizer',
  ILfs: 'IndexLocalSearchQuantizerFastScan',
  IRfs: 'IndexResidualQuantizerFastScan',
  IPLf: 'IndexProductLocalSearchQuantizerFastScan',
  IPRf: 'IndexProductResidualQuantizerFastScan',
  IVLf: 'IndexIVFLocalSearchQuantizerFastScan',
  IVRf: 'IndexIVFResidualQuantizerFastScan',
  NPLf: 'IndexIVFProductLocalSearchQuantizerFastScan',
  NPRf: 'IndexIVFProductResidualQuantizerFastScan',
  Ix2L: 'Index2Layer',
  IxSQ: 'IndexScalarQuantizer',
  IxLa: 'IndexLattice',
  IvFl: 'IndexIVFFlat (legacy)',
  IvFL: 'IndexIVFFlat (legacy)',
  IwFd: 'IndexIVFFlatDedup',
  IwFl: 'IndexIVFFlat',
  IvSQ: 'IndexIVFScalarQuantizer (legacy)',
  IwSQ: 'IndexIVFScalarQuantizer (legacy)',
  IwSq: 'IndexIVFScalarQuantizer',
  IwLS: 'IndexIVFLocalSearchQuantizer',
  IwRQ: 'IndexIVFResidualQuantizer',
  IwPL: 'IndexIVFProductLocalSearchQuantizer',
  IwPR: 'IndexIVFProductResidualQuantizer',
  IwSh: 'IndexIVFSpectralHash',
  IvPQ: 'IndexIVFPQ (legacy)',
  IvQR: 'IndexIVFPQR (legacy)',
  IwPQ: 'IndexIVFPQ',
  IwQR: 'IndexIVFPQR',
  IwIQ: 'IndexIVFIndependentQuantizer',
  IxPT: 'IndexPreTransform',
  Imiq: 'MultiIndexQuantizer',
  IxRF: 'IndexRefine',
  IxMp: 'IndexIDMap',
  IxM2: 'IndexIDMap2',
  IHNf: 'IndexHNSWFlat',
  IHNp: 'IndexHNSWPQ',
  IHNs: 'IndexHNSWSQ',
  IHN2: 'IndexHNSW2Level',
  IHc2: 'IndexHNSWCagra',
  INSf: 'IndexNSGFlat',
  INSp: 'IndexNSGPQ',
  INSs: 'IndexNSGSQ',
  INNf: 'IndexNNDescentFlat',
  IPfs: 'IndexPQFastScan',
  IwPf: 'IndexIVFPQFastScan',
  IRMf: 'IndexRowwiseMinMax',
  IRMh: 'IndexRowwiseMinMaxFP16',
  Ixrq: 'IndexRaBitQ',
  Iwrq: 'IndexIVFRaBitQ',
};

/**
 * The fourccs faiss's write_index_binary (faiss/impl/index_write.cpp, 1.7.3)
 * writes. Their header differs from the float one (write_index_binary_header:
 * d in bits, code_size, ntotal, is_trained, metric_type) and they are read by
 * read_index_binary, which faiss-node does not expose: Lifeboat checks their
 * header (and the whole layout of IBxF) but cannot run probe queries on them.
 */
export const FAISS_BINARY_INDEX_TYPES: Readonly<Record<string, string>> = {
  IBxF: 'IndexBinaryFlat',
  IBwF: 'IndexBinaryIVF',
  IBFf: 'IndexBinaryFromFloat',
  IBHf: 'IndexBinaryHNSW',
  IBMp: 'IndexBinaryIDMap',
  IBM2: 'IndexBinaryIDMap2',
  IBHh: 'IndexBinaryHash',
  IBHm: 'IndexBinaryMultiHash',
};

/** Why a binary index gets no probe queries (recorded as the probes' skip reason). */
export const BINARY_PROBE_SKIP =
  'binary index: faiss-node exposes no read_index_binary, so Lifeboat checks its bytes and header but runs no probe queries';

/**
 * IndexLattice writes d, nsq, scale_nbit and r2 (4 × int32) before the
 * common header; every other type writes the header right after the fourcc.
 */
export const HEADER_PREFIX_BYTES: Readonly<Record<string, number>> = { IxLa: 16 };

/** The fourcc faiss writes in place of an absent nested index (e.g. HNSW storage skipped). */
export const NULL_FOURCC = 'null';
