{
  "targets": [
    {
      "target_name": "olmo_native",
      "sources": [
        "native/addon.cc",
        "native/napi_args.cc",
        "native/threadpool.cc",
        "native/gemm.cc",
        "native/elementwise.cc",
        "native/reduce.cc",
        "native/norms.cc",
        "native/rope.cc",
        "native/attention.cc",
        "native/losses.cc",
        "native/indexing.cc",
        "native/optim.cc",
        "native/convert.cc",
        "native/stop_signal.cc",
        "native/wgemm.cc",
        "native/mmap.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fexceptions", "-ffp-contract=off", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
