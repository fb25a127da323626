// Debian's libfaiss-dev (1.7.3) predates the faiss::idx_t alias that
// faiss-node's source uses; faiss 1.7.3 spells it faiss::Index::idx_t.
#pragma once
#include <faiss/Index.h>
namespace faiss {
#ifndef LIFEBOAT_FAISS_IDX_T
#define LIFEBOAT_FAISS_IDX_T
using idx_t = faiss::Index::idx_t;
#endif
}
