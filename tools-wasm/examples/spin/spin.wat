;; Example component tool written in WebAssembly text, not JS: it loops forever, to show that a component
;; ends on its CPU or wall-time limit with LIMIT_EXCEEDED while the host stays responsive.
;; Core module for the world warden:tool/bare; scripts/build-wasm.ts embeds the WIT and makes it a component.
(module
  (memory (export "memory") 1)

  ;; Strings returned to the host live at fixed places; arguments are copied in by cabi_realloc.
  (global $heap (mut i32) (i32.const 4096))

  ;; The tool's definition: the same JSON a JS tool's describe() produces, NUL-terminated.
  (data (i32.const 1024) "{\"name\":\"spin\",\"description\":\"Loops forever: a component that never returns ends on its CPU or wall-time limit.\",\"inputSchema\":{\"type\":\"object\"},\"outputSchema\":{\"type\":\"object\"},\"capabilities\":{}}\00")

  ;; A bump allocator: enough for the host to copy the input in. Grows the memory when it must.
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1)))
              (i32.const -1))
          (then unreachable))))
    (local.get $ptr))

  ;; describe: func() -> string. Returns a pointer to (ptr, len) of the JSON above; len is found by its NUL.
  (func (export "warden:tool/tool@0.1.0#describe") (result i32)
    (local $end i32)
    (local.set $end (i32.const 1024))
    (block $found
      (loop $scan
        (br_if $found (i32.eqz (i32.load8_u (local.get $end))))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $scan)))
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.sub (local.get $end) (i32.const 1024)))
    (i32.const 16))

  ;; run: func(input: string) -> result<string, error-record>. Never returns.
  (func (export "warden:tool/tool@0.1.0#run") (param $ptr i32) (param $len i32) (result i32)
    (loop $forever (br $forever))
    unreachable)
)
