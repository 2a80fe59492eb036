package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/internal/atomicfile"
	"github.com/ipdb/ipdb-node/node"
)

// maxConfigValueBytes bounds a VALUE of `config set`: the longest config
// value (a keys file path) is 4096 bytes; a list of peers a few more.
const maxConfigValueBytes = 64 << 10

// addConfigEdit adds `config get` and `config set` to the config command.
func addConfigEdit(a *app, c *cobra.Command) *cobra.Command {
	c.Short = "Show, read and change the node configuration"
	c.AddCommand(&cobra.Command{
		Use:   "get KEY",
		Short: "Print one configuration value of the home, such as gateway.ip_rate (the default if it has no config)",
		Long: "get prints the value of KEY (section.key, or role) in the home's config.toml: strings\n" +
			"and durations bare, lists comma-separated, so that scripts can read it.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return a.configGet(args[0]) },
	}, &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change one configuration value of the home, validated, and rewrite config.toml atomically",
		Long: "set changes KEY (section.key, or role) to VALUE in the home's config.toml. VALUE is\n" +
			"written bare: 10, 0.5, \"30s\" as 30s, true, a path; a list comma-separated or as a TOML\n" +
			"array (\"\" for none). The whole configuration is validated before anything is written;\n" +
			"config.toml is rewritten with its comments (RenderConfig). Restart the node to apply.\n" +
			"A negative VALUE needs -- before KEY, as in `config set -- KEY -1`.",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error { return a.configSet(args[0], args[1]) },
	})
	return c
}

// configGet prints one value of the home's configuration, or the default.
func (a *app) configGet(key string) error {
	cfg, _, _, err := a.homeConfig()
	if err != nil {
		return err
	}
	v, err := configField(&cfg, key)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, formatConfigValue(v))
	return err
}

// configSet sets one value of the home's configuration, validates the whole
// and writes it atomically.
func (a *app) configSet(key, value string) error {
	dir, err := a.homeDir()
	if err != nil {
		return err
	}
	h := home{dir}
	if _, err := os.Stat(h.path(configFile)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: missing; make the home first with `ipdb-node init --home %s`", h.path(configFile), h.dir)
	}
	cfg, err := h.loadConfig()
	if err != nil {
		return err
	}
	v, err := configField(&cfg, key)
	if err != nil {
		return err
	}
	old := formatConfigValue(v)
	if err := setConfigValue(v, value); err != nil {
		return fmt.Errorf("config set %s: %w", key, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config set %s %s: nothing written: %w", key, value, err)
	}
	if err := atomicfile.WriteFile(h.path(configFile), node.RenderConfig(cfg), publicFileMode); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "%s = %s (was %s) in %s; restart the node to apply\n", key, formatConfigValue(v), old, h.path(configFile))
	return err
}

// configField returns the settable field of cfg that key (such as
// "gateway.ip_rate" or "role") names, by the fields' toml tags.
func configField(cfg *node.Config, key string) (reflect.Value, error) {
	v := reflect.ValueOf(cfg).Elem()
	parts := strings.Split(key, ".")
	if len(parts) > 2 || key == "" {
		return reflect.Value{}, unknownKey(key, v)
	}
	for i, name := range parts {
		f, ok := fieldByTag(v, name)
		if !ok {
			return reflect.Value{}, unknownKey(key, v)
		}
		isSection := f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[node.Duration]()
		if isSection != (i < len(parts)-1) {
			return reflect.Value{}, unknownKey(key, v)
		}
		v = f
	}
	return v, nil
}

// fieldByTag returns the field of struct v whose toml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("toml") == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// unknownKey returns the error of a key that names no value, listing the
// keys of the table where the lookup stopped.
func unknownKey(key string, table reflect.Value) error {
	t := table.Type()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("toml"))
	}
	return fmt.Errorf("config: unknown key %q; keys are section.key, such as gateway.ip_rate (here: %s; see `ipdb-node config show`)",
		key, strings.Join(names, ", "))
}

// formatConfigValue prints a value as config get shows it.
func formatConfigValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case node.Duration:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v.Interface())
}

// setConfigValue parses s into the field v by its type.
func setConfigValue(v reflect.Value, s string) error {
	if len(s) > maxConfigValueBytes {
		return fmt.Errorf("value of %d bytes, over the limit of %d", len(s), maxConfigValueBytes)
	}
	switch p := v.Addr().Interface().(type) {
	case *node.Duration:
		return p.UnmarshalText([]byte(s))
	case *string:
		*p = s
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", s)
		}
		*p = b
	case *int, *int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return fmt.Errorf("want a whole number, got %q", s)
		}
		v.SetInt(n)
	case *float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", s)
		}
		*p = f
	case *[]string:
		list, err := parseList(s)
		if err != nil {
			return err
		}
		*p = list
	default:
		return fmt.Errorf("cannot set a value of type %s", v.Type())
	}
	return nil
}

// parseList reads a TOML array of strings, or comma-separated strings; ""
// is the empty list.
func parseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var doc struct{ V []string }
		if err := toml.Unmarshal([]byte("V = "+s), &doc); err != nil {
			return nil, fmt.Errorf("want a TOML array of strings or comma-separated values: %w", err)
		}
		s = strings.Join(doc.V, ",")
	}
	var list []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return slices.Clip(list), nil
}
