{
  "targets": [
    {
      "target_name": "capsa",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/bpf.cc",
        "native/addon/fs.cc",
        "native/addon/process.cc",
        "native/addon/seccomp.cc",
        "native/addon/terminal.cc"
      ],
      "libraries": ["-lseccomp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=gnu++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    },
    {
      "target_name": "capsa-init",
      "type": "executable",
      "sources": [
        "native/init/copyup.c",
        "native/init/devices.c",
        "native/init/hooks.c",
        "native/init/lsm.c",
        "native/init/main.c",
        "native/init/mounts.c",
        "native/init/namespaces.c",
        "native/init/process.c",
        "native/init/procfs.c",
        "native/init/proto.c",
        "native/init/seccomp.c",
        "native/init/terminal.c",
        "native/init/util.c"
      ],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fno-strict-aliasing"],
      "ldflags": ["-static", "-s"]
    },
    {
      "target_name": "capsa-test-probe",
      "type": "executable",
      "sources": ["native/test/probe.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "capsa-test-fuzz-proto",
      "type": "executable",
      "sources": ["native/test/fuzz_proto.c", "native/init/proto.c", "native/init/util.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                 "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
      "ldflags": ["-fsanitize=address,undefined"]
    }
  ]
}
