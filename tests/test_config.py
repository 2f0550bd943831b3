import pytest

from agent.config import DEFAULT_MODEL, load_settings
from agent.errors import ConfigError


def write(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


def test_defaults_then_pyproject_then_environment_then_flags(tmp_path):
    root = write(tmp_path, '[tool.makegreen]\nmodel = "from-file"\nmax-iterations = 3\ntest_timeout = 9\n')
    assert load_settings(tmp_path / "none", {}, {}).model == DEFAULT_MODEL
    settings = load_settings(root, {}, {})
    assert (settings.model, settings.max_iterations, settings.test_timeout) == ("from-file", 3, 9.0)
    settings = load_settings(root, {"MAKEGREEN_MODEL": "from-env"}, {"max_iterations": None})
    assert (settings.model, settings.max_iterations) == ("from-env", 3)
    settings = load_settings(root, {"MAKEGREEN_MODEL": "from-env"}, {"model": "from-flag", "max_iterations": 5})
    assert (settings.model, settings.max_iterations) == ("from-flag", 5)


def test_openai_variables_are_read_as_the_client_reads_them(tmp_path):
    settings = load_settings(tmp_path, {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1", "OPENAI_API_KEY": "k"}, {})
    assert (settings.base_url, settings.api_key) == ("http://127.0.0.1:8000/v1", "k")


@pytest.mark.parametrize("text, words", [
    ("[tool.makegreen]\nmodle = 'x'\n", "unknown key 'modle'"),
    ("[tool.makegreen]\nmax-iterations = 'many'\n", "not a valid int"),
    ("[tool.makegreen]\nmax-iterations = 0\n", "must be above 0"),
    ("[tool.makegreen]\nsandbox = 'vm'\n", "must be one of docker, local"),
    ("[tool.makegreen]\napi-key = 'sk-...'\n", "OPENAI_API_KEY"),
    ("[tool.makegreen\n", "not valid TOML"),
    ("[tool.makegreen]\ncandidates = 0\n", "must be above 0"),
    ("[tool.makegreen]\ncandidates = 17\n", "at most 16"),
    ("[tool.makegreen]\ncandidates = 2\nbeam = 3\n", "cannot be more than candidates"),
])
def test_bad_settings_say_what_is_wrong(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(write(tmp_path, text), {}, {})
