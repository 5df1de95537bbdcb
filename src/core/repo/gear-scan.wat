;; The gear scan of FastCDC (src/repo/chunker.ts): gear table at byte 0 of the memory (256 i32),
;; addresses absolute. Returns the address just past the first byte after which (hash & mask) is
;; 0, or -1 with the running hash left in the global "hash". Unrolled by four; src/repo/chunker.ts
;; says why this is WebAssembly and not JavaScript.
(module
  (import "chunker" "memory" (memory 1))
  (global $hash (export "hash") (mut i32) (i32.const 0))
  (func (export "scan") (param $i i32) (param $to i32) (param $h i32) (param $mask i32) (result i32)
    (block $tail
      (loop $four
        (br_if $tail (i32.ge_u (i32.add (local.get $i) (i32.const 3)) (local.get $to)))
        
      (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
        (i32.load (i32.shl (i32.load8_u offset=0 (local.get $i)) (i32.const 2)))))
      (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
        (then (return (i32.add (local.get $i) (i32.const 1)))))
      (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
        (i32.load (i32.shl (i32.load8_u offset=1 (local.get $i)) (i32.const 2)))))
      (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
        (then (return (i32.add (local.get $i) (i32.const 2)))))
      (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
        (i32.load (i32.shl (i32.load8_u offset=2 (local.get $i)) (i32.const 2)))))
      (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
        (then (return (i32.add (local.get $i) (i32.const 3)))))
      (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
        (i32.load (i32.shl (i32.load8_u offset=3 (local.get $i)) (i32.const 2)))))
      (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
        (then (return (i32.add (local.get $i) (i32.const 4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four)))
    (block $end
      (loop $one
        (br_if $end (i32.ge_u (local.get $i) (local.get $to)))
        
      (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
        (i32.load (i32.shl (i32.load8_u offset=0 (local.get $i)) (i32.const 2)))))
      (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
        (then (return (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $one)))
    (global.set $hash (local.get $h))
    (i32.const -1)))
