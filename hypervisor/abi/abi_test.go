package abi

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"testing"
)

// TestGeneratedMatchesHeader regenerates the Go view of abi.h and fails when
// the checked-in file differs: the header stays the only hand-kept copy.
func TestGeneratedMatchesHeader(t *testing.T) {
	objdir := t.TempDir()
	cmd := exec.Command("go", "tool", "cgo", "-objdir", objdir, "-godefs", "types_abi.go")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cgo -godefs: %v\n%s", err, stderr.String())
	}
	gofmt := exec.Command("gofmt")
	gofmt.Stdin = bytes.NewReader(out)
	want, err := gofmt.Output()
	if err != nil {
		t.Fatalf("gofmt: %v", err)
	}
	// The command line is echoed into the output; -objdir is ours only.
	want = bytes.Replace(want, []byte("cgo -objdir "+objdir+" -godefs"), []byte("cgo -godefs"), 1)
	got, err := os.ReadFile("zabi_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("zabi_generated.go is stale: guest/include/ukfork/abi.h changed; run `go generate ./hypervisor/abi`")
	}
}

// TestArgsLayout: every argument struct starts with the int64 ret, is a
// multiple of 8 bytes (so arrays and the next struct stay aligned) and has
// its padding written out, so C and Go cannot lay it out differently.
func TestArgsLayout(t *testing.T) {
	for _, v := range []any{
		HCExitArgs{}, HCForkArgs{}, HCWait4Args{}, HCProcinfoArgs{}, HCStartedArgs{},
		HCSyscallArgs{}, HCClockArgs{}, HCNanosleepArgs{}, HCSigwaitArgs{},
		HCGetrandomArgs{}, HCDiscardArgs{}, HCGetcwdArgs{},
		HCCloseArgs{}, HCLseekArgs{}, HCGetdents64Args{}, HCIoctlArgs{}, HCPipeArgs{},
		HCDupArgs{}, HCFcntlArgs{}, HCSendfileArgs{},
		HCOpenatArgs{}, HCFstatatArgs{}, HCReadlinkatArgs{}, HCFaccessatArgs{},
		HCChdirArgs{}, HCUnlinkatArgs{}, HCExecveArgs{}, HCPrlimitArgs{},
		HCMknodatArgs{}, HCAt2Args{}, HCSymlinkatArgs{}, HCTruncateArgs{}, HCFallocateArgs{},
		HCFsyncArgs{}, HCUtimensatArgs{}, HCFchmodatArgs{}, HCFchownatArgs{}, HCStatfsArgs{},
		HCRWArgs{}, HCPollArgs{}, HCItimerArgs{}, HCSockArgs{},
		HCKillArgs{}, HCSetpgidArgs{}, HCSetsidArgs{}, HCGetpgidArgs{}, HCGetsidArgs{},
	} {
		typ := reflect.TypeOf(v)
		t.Run(typ.Name(), func(t *testing.T) {
			if f := typ.Field(0); f.Name != "Ret" || f.Type.Kind() != reflect.Int64 {
				t.Errorf("first field %s %s, want Ret int64", f.Name, f.Type)
			}
			if typ.Size()%8 != 0 {
				t.Errorf("size %d, not a multiple of 8", typ.Size())
			}
			checkPadding(t, typ)
		})
	}
}

// checkPadding fails where the compiler put bytes no field names.
func checkPadding(t *testing.T, typ reflect.Type) {
	var end uintptr
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Offset != end || f.Name == "_" {
			t.Errorf("implicit padding before %s.%s at %d", typ.Name(), f.Name, end)
		}
		if f.Type.Kind() == reflect.Struct {
			checkPadding(t, f.Type)
		}
		end = f.Offset + f.Type.Size()
	}
	if end != typ.Size() {
		t.Errorf("implicit padding at the end of %s (%d of %d bytes)", typ.Name(), end, typ.Size())
	}
}
