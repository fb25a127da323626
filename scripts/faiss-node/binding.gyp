{
  "targets": [
    {
      "target_name": "faiss-node",
      "sources": ["src/faiss.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fopenmp", "-O2", "-include", "<(module_root_dir)/lifeboat-faiss-compat.h"],
      "defines": ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"],
      "libraries": ["-Wl,-Bstatic", "-lfaiss", "-Wl,-Bdynamic", "-fopenmp", "-lblas", "-llapack"]
    }
  ]
}
